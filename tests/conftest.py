"""Shared fixtures: tiny InfoPro models and a tiny synthetic Cityscapes,
tools run in this process, and ``--fast`` (``make test-fast``)."""
import contextlib
import io
import os
import os.path as osp
import runpy
import subprocess
import sys
import time
import traceback
import warnings
from typing import NamedTuple

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules

import mmseg_infopro  # noqa: F401
from mmseg_infopro.models.utils import to_plain_model_cfg

register_all_modules(init_default_scope=True)
warnings.filterwarnings('ignore')

if os.environ.get('PYTEST_XDIST_WORKER'):
    # make test runs a worker per core (pytest-xdist): one thread each, for
    # the processes tests start too, or the workers' threads would contend.
    torch.set_num_threads(1)
    os.environ['OMP_NUM_THREADS'] = '1'

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
NORM = dict(type='BN', requires_grad=True)


#: Fixtures that train beyond one step or start processes: the tests that
#: use them are ``slow`` without saying so.
SLOW_FIXTURES = {'trained', 'run_python', 'torchrun'}


def pytest_addoption(parser):
    parser.addoption(
        '--fast',
        action='store_true',
        help='the inner loop (make test-fast): leave out the tests marked '
        'slow; a test that starts a process or trains beyond one step '
        'fails, saying to mark it slow')


def pytest_collection_modifyitems(config, items):
    for item in items:
        if SLOW_FIXTURES & set(getattr(item, 'fixturenames', ())):
            item.add_marker(pytest.mark.slow)
    if config.getoption('fast'):
        slow = [item for item in items if item.get_closest_marker('slow')]
        if slow:
            config.hook.pytest_deselected(items=slow)
            items[:] = [item for item in items if item not in slow]


@pytest.fixture(autouse=True)
def fast_means_fast(request, monkeypatch):
    """Under ``--fast``: no subprocess and at most one training step."""
    if not request.config.getoption('fast'):
        yield
        return
    from mmengine.model import BaseModel

    from mmseg_infopro.engine import InfoProDistributedDataParallel
    from mmseg_infopro.models import InfoProEncoderDecoder

    def no_process(*args, **kwargs):
        raise AssertionError(
            f'{request.node.nodeid} starts a process; make test-fast runs '
            f'none: mark the test @pytest.mark.slow')

    monkeypatch.setattr(subprocess.Popen, '__init__', no_process)
    steps, depth = {}, [0]  # steps per model; a wrapper's step calls its model

    def counted(train_step):

        def train_step_counted(self, *args, **kwargs):
            if depth[0] == 0:
                steps[id(self)] = steps.get(id(self), 0) + 1
            depth[0] += 1
            try:
                return train_step(self, *args, **kwargs)
            finally:
                depth[0] -= 1

        return train_step_counted

    for cls in (BaseModel, InfoProEncoderDecoder,
                InfoProDistributedDataParallel):
        monkeypatch.setattr(cls, 'train_step', counted(cls.train_step))
    yield
    most = max(steps.values(), default=0)
    assert most <= 1, (
        f'{request.node.nodeid} trains a model {most} steps; make test-fast '
        f'allows one: mark the test @pytest.mark.slow')


def tiny_model_cfg(k: int = 2,
                   split_points=None,
                   depth: int = 18,
                   **local_head) -> dict:
    """DeepLab-V3 (ResNetV1c-18-D8, narrow heads) with InfoPro K = k."""
    expansion = 4 if depth >= 50 else 1
    head = dict(
        type='InfoProHead',
        num_classes=19,
        loss_recon_weight=1.5,
        loss_task_weight=1.0,
        norm_cfg=NORM,
        task_head=dict(channels=16),
        recon_channels=(16, 8, 4))
    head.update(local_head)
    return dict(
        type='InfoProEncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            bgr_to_rgb=True,
            pad_val=0,
            seg_pad_val=255,
            size=(64, 128)),
        backbone=dict(
            type='InfoProResNetV1c',
            depth=depth,
            num_local_modules=k,
            split_points=split_points,
            out_indices=(0, 1, 2, 3),
            dilations=(1, 1, 2, 4),
            strides=(1, 2, 1, 1),
            norm_cfg=NORM,
            contract_dilation=True),
        decode_head=dict(
            type='ASPPHead',
            in_channels=512 * expansion,
            in_index=3,
            channels=16,
            dilations=(1, 12, 24, 36),
            dropout_ratio=0.1,
            num_classes=19,
            norm_cfg=NORM,
            align_corners=False,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=1.0)),
        auxiliary_head=dict(
            type='FCNHead',
            in_channels=256 * expansion,
            in_index=2,
            channels=16,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0.1,
            num_classes=19,
            norm_cfg=NORM,
            align_corners=False,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4)),
        local_head=head,
        train_cfg=dict(),
        test_cfg=dict(mode='whole'))


def e2e_cfg(infopro_cfg: dict) -> dict:
    """mmseg's own EncoderDecoder + ResNetV1c with the same settings."""
    return to_plain_model_cfg(infopro_cfg)


def random_batch(n: int = 2, h: int = 64, w: int = 128, seed: int = 0):
    """A dataloader-style batch of uint8 images and labels in 0..18/255."""
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(n):
        inputs.append(
            torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8))
        label = torch.randint(0, 19, (1, h, w), generator=gen)
        label[:, :4] = 255
        samples.append(
            SegDataSample(
                gt_sem_seg=PixelData(data=label),
                metainfo=dict(
                    img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w))))
    return dict(inputs=inputs, data_samples=samples)


@pytest.fixture
def model_cfg():
    return tiny_model_cfg


@pytest.fixture
def make_e2e_cfg():
    return e2e_cfg


@pytest.fixture
def batch():
    return random_batch


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory):
    """A tiny synthetic Cityscapes (8 train, 4 val, 64x128)."""
    from mmseg_infopro.datasets import write_synthetic_cityscapes
    root = str(tmp_path_factory.mktemp('synthetic') / 'cityscapes')
    write_synthetic_cityscapes(root, 8, 4, size=(64, 128), seed=0)
    return root


@pytest.fixture
def repo_root():
    return REPO


DEMO_CFG = (
    'configs/demo/'
    'deeplabv3-infopro_r18-d8_1xb4-300_synthetic-cityscapes-128x256.py')


def _run_python(repo_root, *args, check=True, env=None):
    proc = subprocess.run([sys.executable, *args],
                          cwd=repo_root,
                          capture_output=True,
                          text=True,
                          env=env,
                          timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed:\n{proc.stdout[-4000:]}\n'
                             f'{proc.stderr[-4000:]}')
    return proc


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _torchrun(nproc, *args, cwd=None, env=None):
    return subprocess.run([
        sys.executable, '-m', 'torch.distributed.run',
        f'--nproc_per_node={nproc}', f'--master_port={_free_port()}', *args
    ],
                          capture_output=True,
                          text=True,
                          cwd=cwd,
                          env=env,
                          timeout=600)


@pytest.fixture
def torchrun():
    """``torchrun(nproc, *args, cwd=None, env=None)``: a finished
    ``torch.distributed.run`` of ``args`` (its output captured)."""
    return _torchrun


STAND_INS = osp.join(REPO, 'tests', 'stand_ins')
# Configs import stand-ins from tests/stand_ins/, here and in every process
# the tests start.
sys.path.insert(0, STAND_INS)
os.environ['PYTHONPATH'] = os.pathsep.join(
    filter(None, [STAND_INS, os.environ.get('PYTHONPATH')]))
# mmengine's pure answers (config text, metafiles, environment) once per
# input; the test configs import it in the processes they run in.
import remembered_answers  # noqa: E402,F401

#: ``custom_imports`` of the tests' configs.
TEST_IMPORTS = "custom_imports = dict(imports=['mmseg_infopro', " \
    "'remembered_answers'], allow_failed_imports=False)"


def _write_float64_config(path, base: str) -> str:
    path.write_text(f"""
_base_ = {base!r}
custom_imports = dict(
    imports=['mmseg_infopro', 'float64_runner', 'remembered_answers'],
    allow_failed_imports=False)
runner_type = 'Float64Runner'
""")
    return str(path)


@pytest.fixture
def float64_config():
    """``write(path, base)``: a config that inherits ``base`` and trains and
    tests in float64 (tests/stand_ins/float64_runner.py)."""
    return _write_float64_config


@pytest.fixture
def test_imports():
    """The ``custom_imports`` line of the tests' configs."""
    return TEST_IMPORTS


@pytest.fixture
def run_python():
    """Run ``python *args`` in the repo; fail with its output if asked."""
    return _run_python


class ToolRun(NamedTuple):
    """What a finished tool run left, as ``subprocess.run`` reports it."""
    returncode: int
    stdout: str
    stderr: str


_last_runner_end = [0]


def _run_tool(script, *args, check=True, env=None):
    """Run ``python script *args`` in this process: ``script``'s
    ``__main__`` with that ``sys.argv``, in the repo, its output captured.

    Seconds cheaper than a subprocess (which imports the stack again); the
    exit status is the one Python would give: ``sys.exit('error: ...')``
    prints the message and gives 1, an uncaught exception its traceback
    and 1. ``env`` entries are set for the run (``PYTHONPATH`` also goes to
    ``sys.path``); the environment, ``sys.path`` and the folder are restored
    afterwards. One real subprocess per tool stays in the suite."""
    from mmengine.logging import MMLogger

    # mmengine names a Runner's logger, message hub and visualizer after
    # the second it starts; two Runners in one second would share them.
    while int(time.time()) == _last_runner_end[0]:
        time.sleep(0.05)
    loggers = set(MMLogger._instance_dict)
    own_logger = f'run_tool_{time.time_ns()}'
    saved = dict(environ=dict(os.environ), path=list(sys.path),
                 argv=sys.argv, cwd=os.getcwd())
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        os.environ.update(env or {})
        extra = (env or {}).get('PYTHONPATH')
        if extra:
            sys.path[:0] = extra.split(os.pathsep)
        os.chdir(REPO)
        # As `python script` does: its folder first (sibling modules).
        sys.path.insert(0, osp.dirname(osp.abspath(script)))
        sys.argv = [script, *map(str, args)]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            # print_log(logger='current') before a Runner exists writes to
            # the newest MMLogger: one made now writes to this run's stdout.
            MMLogger.get_instance(own_logger)
            try:
                runpy.run_path(script, run_name='__main__')
            except SystemExit as e:
                if isinstance(e.code, str):
                    print(e.code, file=sys.stderr)
                    code = 1
                else:
                    code = e.code or 0
            except Exception:
                traceback.print_exc()
                code = 1
    finally:
        if set(MMLogger._instance_dict) - loggers - {own_logger}:
            _last_runner_end[0] = int(time.time())
        os.environ.clear()
        os.environ.update(saved['environ'])
        sys.path[:] = saved['path']
        sys.argv = saved['argv']
        os.chdir(saved['cwd'])
    run = ToolRun(code, out.getvalue(), err.getvalue())
    if check and code != 0:
        raise AssertionError(f'{script} {args} failed:\n{run.stdout[-4000:]}'
                             f'\n{run.stderr[-4000:]}')
    return run


def load_tool_module(script: str):
    """The module of a tool's file (``tools/`` is no package), its folder
    on ``sys.path`` for its own sibling imports, as when it runs."""
    import importlib.util
    path = osp.join(REPO, script)
    folder = osp.dirname(path)
    if folder not in sys.path:
        sys.path.append(folder)
    name = osp.splitext(osp.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def tool_module():
    """Import a tool's file as a module (see :func:`load_tool_module`):
    ``tool_module('tools/analysis/study_runs.py')``."""
    return load_tool_module


@pytest.fixture
def run_tool():
    """Run a tool's ``__main__`` in this process (see :func:`_run_tool`):
    ``run_tool(script, *args, check=True, env=None)``."""
    return _run_tool


def _write_user_config(path, root, iters):
    """A user config that inherits the demo config through _base_, without
    random augmentation or dropout: a resumed run of it repeats an
    uninterrupted one exactly (mmengine does not restore the global RNG)."""
    path.write_text(f"""
_base_ = '{osp.join(REPO, DEMO_CFG)}'
{TEST_IMPORTS}
crop_size = (64, 128)
data_root = '{root}'
model = dict(
    data_preprocessor=dict(size=crop_size),
    decode_head=dict(dropout_ratio=0.0),
    auxiliary_head=dict(dropout_ratio=0.0),
    local_head=dict(task_head=dict(dropout_ratio=0.0)))
# Crops as large as the images: RandomCrop draws nothing.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
# No worker processes: the tests run it in the pytest process.
train_dataloader = dict(
    batch_size=2, num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=0, persistent_workers=False,
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
randomness = dict(seed=0)
train_cfg = dict(max_iters={iters}, val_interval={iters})
param_scheduler = [dict(type='PolyLR', end={iters}, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
""")
    return str(path)


@pytest.fixture
def user_config():
    """Write the tests' user config (see :func:`_write_user_config`):
    ``user_config(path, data_root, iters)`` -> its path."""
    return _write_user_config


#: The split the ``trained`` checkpoint is trained with, from the command
#: line: its config's automatic split would measure another (checked by
#: tests/test_tools/test_train_test.py), so runs that continue from it show
#: whether they take the checkpoint's split.
TRAINED_SPLIT = 'model.backbone.split_points=(2,)'


@pytest.fixture(scope='session')
def trained(tmp_path_factory, synthetic_root):
    """tools/train.py (in this process) for 4 iterations on the tiny
    synthetic set with a config that inherits the demo config, at
    ``TRAINED_SPLIT``, checkpoints at iterations 2 and 4."""
    tmp = tmp_path_factory.mktemp('train')
    cfg = _write_user_config(tmp / 'cfg.py', synthetic_root, 4)
    work_dir = str(tmp / 'work_dir')
    proc = _run_tool('tools/train.py', cfg, '--work-dir', work_dir,
                     '--cfg-options', TRAINED_SPLIT)
    return dict(
        repo_root=REPO,
        tmp=tmp,
        cfg=cfg,
        split_option=TRAINED_SPLIT,
        ckpt=osp.join(work_dir, 'iter_4.pth'),
        work_dir=work_dir,
        data_root=synthetic_root,
        log=proc.stdout + proc.stderr)


def write_segnet_camvid(root, splits=dict(train=4, val=2), size=(48, 64)):
    """A tiny CamVid in the SegNet layout: ``split/`` images and
    ``splitannot/`` labels of ids 0..11 (11 = void), the top rows void."""
    import cv2
    import numpy as np
    gen = np.random.default_rng(0)
    h, w = size
    for split, n in splits.items():
        for d in (split, split + 'annot'):
            os.makedirs(osp.join(root, d), exist_ok=True)
        for i in range(n):
            name = f'0001TP_{i:06d}.png'
            label = np.repeat(
                np.arange(w, dtype=np.uint8)[None] * 11 // w, h, axis=0)
            label[:4] = 11
            image = gen.integers(0, 256, (h, w, 3), dtype=np.uint8)
            cv2.imwrite(osp.join(root, split, name), image)
            cv2.imwrite(osp.join(root, split + 'annot', name), label)
    return root


@pytest.fixture
def segnet_camvid(tmp_path):
    """Path of a fresh tiny SegNet-layout CamVid (train 4, val 2)."""
    return write_segnet_camvid(str(tmp_path / 'CamVid'))


@pytest.fixture(scope='session')
def camvid_root(tmp_path_factory):
    """A tiny converted CamVid (img_dir/, ann_dir/), shared by the tests."""
    from mmseg_infopro.datasets import convert_segnet_camvid
    tmp = tmp_path_factory.mktemp('camvid')
    src = write_segnet_camvid(str(tmp / 'CamVid'))
    out = str(tmp / 'camvid')
    convert_segnet_camvid(src, out)
    return out
