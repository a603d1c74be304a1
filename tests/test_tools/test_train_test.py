"""tools/train.py, tools/test.py and resume on synthetic data, run in this
process (tests/test_tools/test_gpu_check.py runs them as commands, with
torchrun too)."""
import glob
import json
import os
import os.path as osp
import pathlib

import cv2
import pytest
import torch


def assert_one_error_line(proc, message):
    """The tool stopped as on a user's mistake: exit code 1 and one
    ``error:`` line holding ``message``."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith('error: ') and message in lines[0], lines[0]


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
    assert ckpt['state_dict']['local_heads._extra_state'].tolist() == [2]


def test_test_tool_on_the_checkpoint(trained, tmp_path, run_tool):
    out = str(tmp_path / 'preds')
    proc = run_tool('tools/test.py', trained['cfg'],
                    osp.join(trained['work_dir'], 'iter_4.pth'), '--work-dir',
                    str(tmp_path / 'test_wd'), '--out', out)
    log = proc.stdout + proc.stderr
    assert 'mIoU' in log
    assert len(os.listdir(out)) == 4  # one label map per val image
    # Testing never measures the split: the checkpoint's is used.
    assert 'automatic split_points' not in log
    assert 'as recorded in' in log


def test_test_outputs_of_an_earlier_run_are_kept_without_overwrite(
        trained, tmp_path, run_tool):
    """Before: a second test (another checkpoint, say) into the same --out
    replaced the first one's label maps without a word."""
    out = tmp_path / 'preds'
    args = ('tools/test.py', trained['cfg'], trained['ckpt'], '--work-dir',
            str(tmp_path / 'wd'), '--out', str(out))
    run_tool(*args)
    first = {p: p.read_bytes() for p in out.iterdir()}
    (next(iter(first))).write_bytes(b'an earlier result')
    assert_one_error_line(
        run_tool(*args, check=False), '--out: 4 of the 4 files to write exist')
    assert (next(iter(first))).read_bytes() == b'an earlier result'
    run_tool(*args, '--overwrite')
    assert {p: p.read_bytes() for p in out.iterdir()} == first


def test_resume_continues_from_the_last_checkpoint(trained, run_tool):
    """The config's automatic split would measure another split than the
    checkpoint's (2,) (as on another machine): resuming takes the
    checkpoint's."""
    cfg = str(trained['tmp'] / 'cfg6.py')
    with open(trained['cfg']) as f:
        text = f.read()
    with open(cfg, 'w') as f:
        f.write(
            text.replace('max_iters=4', 'max_iters=6').replace(
                'val_interval=4', 'val_interval=6').replace('end=4', 'end=6'))
    proc = run_tool('tools/train.py', cfg, '--work-dir', trained['work_dir'],
                    '--resume')
    log = proc.stdout + proc.stderr
    assert 'resumed epoch: 0, iter: 4' in log
    assert 'split_points=(2,) as recorded in' in log
    assert 'automatic split_points' not in log
    assert 'Iter(train) [5/6]' in log
    assert osp.isfile(osp.join(trained['work_dir'], 'iter_6.pth'))


def test_load_from_and_init_model(trained, tmp_path):
    from mmseg.apis import inference_model, init_model
    ckpt = osp.join(trained['work_dir'], 'iter_4.pth')
    model = init_model(trained['cfg'], ckpt, device='cpu')
    img = sorted(
        os.path.join(dp, f) for dp, _, fs in os.walk(
            osp.join(model.cfg.val_dataloader.dataset.data_root, 'leftImg8bit',
                     'val')) for f in fs)[0]
    result = inference_model(model, img)
    assert result.pred_sem_seg.data.shape[1:] == (64, 128)


def test_bad_data_root_stops_with_a_clear_message(trained, tmp_path,
                                                  run_tool):
    proc = run_tool(
        'tools/train.py',
        trained['cfg'],
        '--work-dir',
        str(tmp_path / 'wd'),
        '--cfg-options',
        f'train_dataloader.dataset.data_root={tmp_path}/missing',
        check=False)
    assert proc.returncode != 0
    assert 'does not exist' in proc.stderr
    assert 'docs/dataset_prepare.md' in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_module_losses_reach_the_vis_backends(trained):
    # mmengine's visualizer gets the same scalars as the log; with
    # TensorboardVisBackend enabled they go to TensorBoard the same way.
    files = glob.glob(
        osp.join(trained['work_dir'], '*', 'vis_data', 'scalars.json'))
    assert files
    with open(files[0]) as f:
        rows = [json.loads(line) for line in f]
    keys = set().union(*rows)
    assert {
        'local1.task.loss_ce', 'local1.loss_recon', 'decode.loss_ce',
        'aux.loss_ce', 'loss'
    } <= keys


def test_reused_work_dir_is_refused_unless_asked(trained, tmp_path,
                                                 run_tool):
    import shutil
    work_dir = tmp_path / 'wd'
    shutil.copytree(trained['work_dir'], work_dir)
    proc = run_tool(
        'tools/train.py',
        trained['cfg'],
        '--work-dir',
        str(work_dir),
        check=False)
    assert proc.returncode != 0
    assert 'holds checkpoints of an earlier run' in proc.stderr
    assert '--resume' in proc.stderr and '--overwrite' in proc.stderr
    before = sorted(p.name for p in work_dir.glob('*.pth'))
    # Starting from the checkpoint's weights takes its split, (2,), too.
    proc = run_tool('tools/train.py', trained['cfg'], '--work-dir',
                    str(work_dir), '--overwrite', '--cfg-options',
                    f'load_from={trained["ckpt"]}', 'train_cfg.max_iters=2',
                    'train_cfg.val_interval=2')
    assert 'split_points=(2,) as recorded in' in proc.stdout + proc.stderr
    # The old run's checkpoints are kept aside, not mixed with the new one's.
    aside = list(work_dir.glob('replaced_*'))
    assert len(aside) == 1
    assert sorted(p.name for p in aside[0].glob('*.pth')) == before
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['iter_2.pth']


def test_resume_without_a_checkpoint_says_so(trained, tmp_path, run_tool):
    proc = run_tool('tools/train.py', trained['cfg'], '--work-dir',
                    str(tmp_path / 'empty'), '--resume', '--cfg-options',
                    'train_cfg.max_iters=1', 'train_cfg.val_interval=1')
    log = proc.stdout + proc.stderr
    assert 'nothing is resumed, training starts from scratch' in log
    assert 'Iter(train) [1/1]' in log


def test_launcher_and_amp_mistakes_stop_before_building(trained, run_tool):
    proc = run_tool(
        'tools/train.py', trained['cfg'], '--launcher', 'pytorch', check=False)
    assert proc.returncode != 0 and 'tools/dist_train.sh' in proc.stderr
    if torch.cuda.is_available():
        pytest.skip('--amp works here')
    proc = run_tool('tools/train.py', trained['cfg'], '--amp', check=False)
    assert proc.returncode != 0 and 'needs a GPU' in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_test_tool_refuses_broken_and_foreign_checkpoints(
        trained, tmp_path, run_tool):
    empty, junk = tmp_path / 'empty.pth', tmp_path / 'junk.pth'
    empty.write_bytes(b'')
    junk.write_bytes(os.urandom(4096))
    foreign = tmp_path / 'foreign.pth'
    ckpt = torch.load(trained['ckpt'], weights_only=True)
    # As a checkpoint of another depth: layer4 has other blocks.
    ckpt['state_dict'] = {
        k: v
        for k, v in ckpt['state_dict'].items() if 'layer4.1.' not in k
    }
    torch.save(ckpt, foreign)
    for path, message in ((empty, 'is empty'), (junk, 'weights_only=True'),
                          (foreign, 'backbone.layer4.1.conv1.weight: '
                           'missing')):
        proc = run_tool(
            'tools/test.py',
            trained['cfg'],
            str(path),
            '--work-dir',
            str(tmp_path / 'test_wd'),
            check=False)
        assert proc.returncode != 0 and message in proc.stderr, proc.stderr
        assert 'Traceback' not in proc.stderr
        assert 'weights_only=False' not in proc.stderr


def test_inference_refuses_a_foreign_checkpoint(trained, tmp_path):
    import pytest
    from mmseg.apis import init_model
    ckpt = torch.load(trained['ckpt'], weights_only=True)
    ckpt['state_dict']['backbone.layer4.1.conv1.weight'] = torch.zeros(1)
    foreign = tmp_path / 'foreign.pth'
    torch.save(ckpt, foreign)
    with pytest.raises(ValueError, match='does not fit this model'):
        init_model(trained['cfg'], str(foreign), device='cpu')


def test_plain_runner_loading_another_split_says_what_to_set(
        trained, tmp_path):
    """mmseg's own tools/train.py (a plain Runner) measures an automatic
    split before it loads ``load_from``: a checkpoint of another split stops
    with the split to configure, not with heads trained on other features."""
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg = Config.fromfile(trained['cfg'])
    cfg.work_dir = str(tmp_path / 'wd')
    cfg.load_from = trained['ckpt']  # trained at split (2,)
    cfg.train_cfg.max_iters = 1
    with pytest.raises(ValueError, match=r'split_points=\(2,\)') as error:
        Runner.from_cfg(cfg).train()
    # The config's automatic split measures another split here.
    assert 'this model splits at (2,)' not in str(error.value)


def _work_dir_copy(trained, folder, recorded_in):
    """A work dir holding copies of the trained run's checkpoints 2 and 4,
    with the ``last_checkpoint`` mmengine writes (an absolute path) as if
    the run had been trained in ``recorded_in``."""
    import shutil
    folder.mkdir()
    for name in ('iter_2.pth', 'iter_4.pth'):
        shutil.copy(osp.join(trained['work_dir'], name), folder / name)
    (folder / 'last_checkpoint').write_text(
        osp.join(str(recorded_in), 'iter_4.pth'))
    return folder


def test_resume_takes_the_checkpoint_of_the_work_dir_it_is_given(
        trained, tmp_path, run_tool):
    """A moved work dir names a file that is gone, a copied one (here: of
    the trained run) the original's; --resume takes its own."""
    moved = _work_dir_copy(trained, tmp_path / 'moved', tmp_path / 'gone')
    copied = _work_dir_copy(trained, tmp_path / 'copied', trained['work_dir'])
    # The copy's newest checkpoint was cut short (killed while written).
    data = (copied / 'iter_4.pth').read_bytes()
    (copied / 'iter_4.pth').write_bytes(data[:len(data) // 2])
    for work_dir, resumed in ((moved, 4), (copied, 2)):
        proc = run_tool('tools/train.py', trained['cfg'], '--work-dir',
                        str(work_dir), '--resume', '--cfg-options',
                        'train_cfg.max_iters=5', 'train_cfg.val_interval=100')
        log = proc.stdout + proc.stderr
        assert f'continuing from {work_dir}/iter_{resumed}.pth' in log
        assert 'outside this work dir (moved or copied)' in log
        assert f'resumed epoch: 0, iter: {resumed}' in log
        assert f'Iter(train) [{resumed + 1}/5]' in log
    assert 'iter_4.pth: ' in log and 'passed over' in log
    assert (copied / 'iter_5.pth').is_file()


def test_resume_where_no_checkpoint_loads_says_what_to_do(
        trained, tmp_path, run_tool):
    work_dir = _work_dir_copy(trained, tmp_path / 'wd', tmp_path / 'wd')
    for name in ('iter_2.pth', 'iter_4.pth'):
        (work_dir / name).write_bytes(b'PK\x03\x04 cut short')
    proc = run_tool('tools/train.py', trained['cfg'], '--work-dir',
                    str(work_dir), '--resume', check=False)
    assert proc.returncode == 1 and 'no checkpoint in' in proc.stderr
    assert '--overwrite' in proc.stderr and 'Traceback' not in proc.stderr


@pytest.mark.parametrize('options, message', [
    (['model.backbone.num_local_modules=3',
      'model.backbone.split_points=(6,3)'], 'strictly increasing'),
    (['model.backbone.num_local_modules=12'], 'exceeds the 9 elements'),
    (['model.local_head.loss_recon_weight=-1'], 'must be >= 0'),
    (['model.local_head.recon_weight=2'], "Did you mean 'loss_recon_weight'"),
    # mmseg's own checks, raised while the model is built.
    (['model.backbone.depth=7'], 'invalid depth 7 for resnet'),
    (['model.backbone.type=ResNetV1x'], 'ResNetV1x'),
    # Keys a module does not take, wherever in the model.
    (['model.backbone.dept=18'], "backbone has no setting 'dept'"),
    (['model.decode_head.dilation=(1,6,12,18)'], "Did you mean 'dilations'"),
    (['model.balance_shap=(2,64,128)'], "Did you mean 'balance_shape'"),
    # Labels of 19 classes into a head of 5: an IndexError on the CPU, a
    # device-side assert on a GPU, at the first step.
    (['model.decode_head.num_classes=5'], 'num_classes=5'),
    (['train_dataloader.batch_size=0'], 'train_dataloader.batch_size'),
    (['model.pretrained=/nonexistent/resnet18_v1c.pth'],
     '/nonexistent/resnet18_v1c.pth does not exist'),
    (['load_from=/nonexistent/nope.pth'],
     "load_from: checkpoint '/nonexistent/nope.pth' does not exist"),
])
def test_config_mistakes_stop_with_one_error_line(trained, tmp_path, run_tool,
                                                  options, message):
    proc = run_tool('tools/train.py', trained['cfg'], '--work-dir',
                    str(tmp_path / 'wd'), '--cfg-options', *options,
                    check=False)
    assert_one_error_line(proc, message)


def test_config_file_and_work_dir_mistakes_are_one_error_line(
        trained, tmp_path, run_tool):
    a_file = tmp_path / 'a_file'
    a_file.write_text('keep me')
    broken = tmp_path / 'broken.py'
    broken.write_text(f"_base_ = '{trained['cfg']}'\nmodel = dict(\n")
    orphan = tmp_path / 'orphan.py'
    orphan.write_text("_base_ = './nope.py'\n")
    checkpoint = [trained['ckpt']]
    for tool, extra in (('tools/train.py', []), ('tools/test.py', checkpoint)):
        for cfg, flags, message in (
            (trained['cfg'], ['--work-dir', str(a_file)], 'is a file'),
            (str(broken), ['--work-dir', str(tmp_path / 'wd')],
             'SyntaxError'),
            (str(orphan), ['--work-dir', str(tmp_path / 'wd')], 'nope.py'),
            (trained['cfg'], ['--work-dir', str(tmp_path / 'wd'),
                              '--cfg-options', 'model.backbone.depth.x=1'],
             'cannot inherit'),
            (trained['cfg'], ['--work-dir', str(tmp_path / 'wd'),
                              '--cfg-options', 'model.backbone.depth', '=',
                              '50'], "'model.backbone.depth' is not KEY="),
        ):
            proc = run_tool(tool, cfg, *extra, *flags, check=False)
            assert_one_error_line(proc, message)
    assert a_file.read_text() == 'keep me'


def test_test_tool_stops_on_test_settings_that_cannot_work(
        trained, tmp_path, run_tool):
    taken = tmp_path / 'taken'
    taken.write_text('keep me')
    for flags, message in (
        (['--cfg-options', 'test_dataloader.batch_size=0'],
         'test_dataloader.batch_size'),
        (['--tta', '--cfg-options', 'tta_pipeline=None'], 'tta_pipeline'),
        (['--cfg-options', 'model.backbone.depth=7'], 'invalid depth 7'),
        (['--out', str(taken)], f'--out {taken} is a file; give a folder'),
        (['--show-dir', str(taken)], f'--show-dir {taken} is a file'),
        (['--show-dir', 'x', '--show-interval', '0'],
         '--show-interval must be >= 1'),
        (['--show-dir', 'x', '--cfg-options',
          'default_hooks.visualization.type=CheckpointHook'],
         'type SegVisualizationHook'),
    ):
        proc = run_tool('tools/test.py', trained['cfg'], trained['ckpt'],
                        '--work-dir', str(tmp_path / 'wd'), *flags,
                        check=False)
        assert_one_error_line(proc, message)
    assert taken.read_text() == 'keep me'


def test_test_tool_and_debug_on_a_config_mistake(trained, tmp_path,
                                                 run_tool):
    options = ('--cfg-options', 'model.backbone.num_local_modules=3',
               'model.backbone.split_points=(6,3)')
    proc = run_tool('tools/test.py', trained['cfg'], trained['ckpt'],
                    '--work-dir', str(tmp_path / 'wd'), *options,
                    check=False)
    assert_one_error_line(proc, 'strictly')
    debug = run_tool('tools/train.py', trained['cfg'], '--work-dir',
                     str(tmp_path / 'wd'), '--debug', *options, check=False)
    assert debug.returncode == 1 and 'Traceback' in debug.stderr


def test_a_second_run_into_a_work_dir_in_use_is_refused(trained, tmp_path,
                                                        run_tool):
    """The guard at the start saw an empty folder for both runs; the lock
    stops the second for as long as the first runs."""
    from mmseg_infopro.preflight import lock_work_dir
    work_dir = tmp_path / 'wd'
    first = lock_work_dir(str(work_dir))  # as a running training holds it
    try:
        for flags in ([], ['--overwrite'], ['--resume']):
            proc = run_tool('tools/train.py', trained['cfg'], '--work-dir',
                            str(work_dir), *flags, check=False)
            assert proc.returncode == 1, proc.stderr[-2000:]
            assert f'in use by another training (PID {os.getpid()})' in \
                proc.stderr
    finally:
        first.close()
    assert not list(work_dir.glob('*.pth'))
    lock_work_dir(str(work_dir)).close()  # the refused runs hold nothing


@pytest.mark.parametrize('name, code', [('SIGTERM', 143), ('SIGINT', 130)])
def test_a_stop_signal_is_logged_with_the_checkpoint_to_resume(
        trained, tmp_path, run_tool, name, code):
    """SIGTERM: a scheduler's stop (before: exit 143 without a word);
    SIGINT: Ctrl-C (before: a KeyboardInterrupt traceback)."""
    import signal
    import threading
    import time
    stop = getattr(signal, name)
    work_dir = tmp_path / 'wd'
    received = []

    def fallback(*args):  # in place of pytest's default, which would end it
        received.append(args)

    default = signal.signal(stop, fallback)

    def stop_after_the_first_checkpoint():
        last = work_dir / 'last_checkpoint'
        deadline = time.time() + 120
        while not last.exists() and time.time() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), stop)

    threading.Thread(target=stop_after_the_first_checkpoint).start()
    try:  # long enough to be stopped while it trains
        proc = run_tool('tools/train.py', trained['cfg'], '--work-dir',
                        str(work_dir), '--cfg-options',
                        'train_cfg.max_iters=100', check=False)
        # The tool's handler took the signal and gave the earlier back.
        assert signal.getsignal(stop) is fallback
    finally:
        signal.signal(stop, default)
    assert not received
    assert proc.returncode == code, proc.stderr[-2000:]
    log = proc.stdout + proc.stderr
    assert f'Stopped by signal {name}' in log and 'Traceback' not in log
    assert f'--resume continues from {work_dir}/iter_2.pth' in log


@pytest.mark.parametrize('change, names', [
    ('model.backbone.num_local_modules=1', 'local_heads.0.'),
    ('model.local_head.task_head.channels=8', 'model (19, 8, 1, 1)'),
])
def test_resume_after_a_model_change_says_what_differs(
        trained, tmp_path, run_tool, change, names):
    """Before: the optimizer's "parameter group doesn't match" or a shape
    error at the first step."""
    work_dir = _work_dir_copy(trained, tmp_path / 'wd', tmp_path / 'wd')
    proc = run_tool('tools/train.py', trained['cfg'], '--work-dir',
                    str(work_dir), '--resume', '--cfg-options', change,
                    check=False)
    assert_one_error_line(proc, 'error: --resume: ')
    assert names in proc.stderr and 'undo the change' in proc.stderr


def test_show_dir_draws_every_test_image_from_the_test_split_alone(
        trained, tmp_path, run_tool):
    """A relative --show-dir lands in work_dir/<timestamp>/ as --help says,
    one drawing per val image (mmseg's hook draws every 50th batch), and
    the train split is never read (it is absent on this 'machine')."""
    work_dir = tmp_path / 'wd'
    proc = run_tool('tools/test.py', trained['cfg'], trained['ckpt'],
                    '--work-dir', str(work_dir), '--show-dir', 'drawn',
                    '--cfg-options',
                    f'train_dataloader.dataset.data_root={tmp_path}/absent',
                    check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run_dir, ) = [p for p in work_dir.iterdir() if p.is_dir()]
    drawn_dir = run_dir / 'drawn'
    val_dir = pathlib.Path(trained['data_root'], 'leftImg8bit', 'val')
    # Named as the images, in their city folders.
    drawn = sorted(p.relative_to(drawn_dir) for p in drawn_dir.rglob('*.*'))
    images = sorted(p.relative_to(val_dir) for p in val_dir.rglob('*.*'))
    assert len(images) == 4 and drawn == images
    assert f'go to {drawn_dir}' in proc.stdout + proc.stderr
    # mmseg's drawing: the labels, then the prediction, over the image.
    image = cv2.imread(str(val_dir / images[-1]))
    painted = cv2.imread(str(drawn_dir / images[-1]))
    h, w, _ = image.shape
    assert painted.shape == (h, 2 * w, 3)
    assert (painted[:, w:] != image).any()
    # An absolute folder is taken as it is; one batch (= image) in 2.
    absolute = tmp_path / 'every_second'
    run_tool('tools/test.py', trained['cfg'], trained['ckpt'], '--work-dir',
             str(work_dir), '--show-dir', str(absolute), '--show-interval',
             '2')
    assert sorted(p.relative_to(absolute)
                  for p in absolute.rglob('*.*')) == images[1::2]


def test_out_and_show_dir_never_write_over_the_test_set(
        trained, tmp_path, run_tool):
    """--out names each label map after its image (mmseg's IoUMetric), and
    --show-dir keeps the images' paths: pointed at the data, either would
    replace the test images by predictions."""
    import shutil
    root = tmp_path / 'data'
    for part in ('leftImg8bit/val', 'gtFine/val'):
        shutil.copytree(osp.join(trained['data_root'], part), root / part)
    images = sorted((root / 'leftImg8bit/val').rglob('*.png'))
    before = [p.read_bytes() for p in images]
    city = images[0].parent
    for flags, written in ((['--out', str(city)], images[0]),
                           (['--out', str(tmp_path / 'link')], images[0]),
                           (['--show-dir', str(root / 'leftImg8bit/val')],
                            images[0])):
        (tmp_path / 'link').unlink(missing_ok=True)
        (tmp_path / 'link').symlink_to(city)
        proc = run_tool('tools/test.py', trained['cfg'], trained['ckpt'],
                        '--work-dir', str(tmp_path / 'wd'), *flags,
                        '--cfg-options',
                        f'test_dataloader.dataset.data_root={root}',
                        check=False)
        assert_one_error_line(proc, f'would replace {written}, which is an '
                              f'input of the test')
    assert [p.read_bytes() for p in images] == before
