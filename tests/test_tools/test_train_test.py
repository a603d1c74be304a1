"""tools/train.py, tools/test.py and resume, end to end on synthetic data."""
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

DEMO = 'configs/demo/deeplabv3-infopro_r18-d8_1xb4-300_synthetic-cityscapes-128x256.py'


def run(repo_root, *args, check=True):
    proc = subprocess.run([sys.executable, *args],
                          cwd=repo_root,
                          capture_output=True,
                          text=True,
                          timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed:\n{proc.stdout[-4000:]}\n'
                             f'{proc.stderr[-4000:]}')
    return proc


def write_config(path, repo_root, root, iters):
    """A user config that inherits the demo config through _base_."""
    path.write_text(f"""
_base_ = '{osp.join(repo_root, DEMO)}'
crop_size = (64, 128)
data_root = '{root}'
model = dict(data_preprocessor=dict(size=crop_size))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=2, num_workers=1,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=1, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
train_cfg = dict(max_iters={iters}, val_interval={iters})
param_scheduler = [dict(type='PolyLR', end={iters}, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
""")
    return str(path)


@pytest.fixture(scope='module')
def trained(tmp_path_factory, synthetic_root):
    repo_root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    tmp = tmp_path_factory.mktemp('train')
    cfg = write_config(tmp / 'cfg.py', repo_root, synthetic_root, 4)
    work_dir = str(tmp / 'work_dir')
    proc = run(repo_root, 'tools/train.py', cfg, '--work-dir', work_dir)
    return dict(
        repo_root=repo_root,
        tmp=tmp,
        cfg=cfg,
        work_dir=work_dir,
        log=proc.stdout + proc.stderr)


def test_train_runs_infopro_and_evaluates(trained):
    log = trained['log']
    for key in ('local1.task.loss_ce', 'local1.loss_recon', 'decode.loss_ce',
                'aux.loss_ce', 'mIoU'):
        assert key in log, key
    assert osp.isfile(osp.join(trained['work_dir'], 'iter_4.pth'))


def test_checkpoint_loads_with_weights_only(trained):
    ckpt = torch.load(
        osp.join(trained['work_dir'], 'iter_4.pth'), weights_only=True)
    assert any(k.startswith('local_heads.0.') for k in ckpt['state_dict'])
    assert ckpt['meta']['iter'] == 4


def test_test_tool_on_the_checkpoint(trained, tmp_path):
    out = str(tmp_path / 'preds')
    proc = run(trained['repo_root'], 'tools/test.py', trained['cfg'],
               osp.join(trained['work_dir'], 'iter_4.pth'), '--work-dir',
               str(tmp_path / 'test_wd'), '--out', out)
    assert 'mIoU' in proc.stdout + proc.stderr
    assert len(os.listdir(out)) == 4  # one label map per val image


def test_resume_continues_from_the_last_checkpoint(trained):
    cfg = str(trained['tmp'] / 'cfg6.py')
    with open(trained['cfg']) as f:
        text = f.read()
    with open(cfg, 'w') as f:
        f.write(
            text.replace('max_iters=4', 'max_iters=6').replace(
                'val_interval=4', 'val_interval=6').replace('end=4', 'end=6'))
    proc = run(trained['repo_root'], 'tools/train.py', cfg, '--work-dir',
               trained['work_dir'], '--resume')
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 4' in log
    assert 'Iter(train) [5/6]' in log
    assert osp.isfile(osp.join(trained['work_dir'], 'iter_6.pth'))


def test_load_from_and_init_model(trained, tmp_path):
    from mmseg.apis import inference_model, init_model
    ckpt = osp.join(trained['work_dir'], 'iter_4.pth')
    model = init_model(trained['cfg'], ckpt, device='cpu')
    img = sorted(
        os.path.join(dp, f) for dp, _, fs in os.walk(
            osp.join(model.cfg.val_dataloader.dataset.data_root,
                     'leftImg8bit', 'val')) for f in fs)[0]
    result = inference_model(model, img)
    assert result.pred_sem_seg.data.shape[1:] == (64, 128)


def test_bad_data_root_stops_with_a_clear_message(trained, tmp_path):
    proc = run(trained['repo_root'], 'tools/train.py', trained['cfg'],
               '--work-dir', str(tmp_path / 'wd'), '--cfg-options',
               f'train_dataloader.dataset.data_root={tmp_path}/missing',
               check=False)
    assert proc.returncode != 0
    assert 'does not exist' in proc.stderr
    assert 'docs/dataset_prepare.md' in proc.stderr
    assert 'Traceback' not in proc.stderr
