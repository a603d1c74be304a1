"""tools/train.py, tools/test.py and resume on synthetic data, run in this
process (tests/test_tools/test_gpu_check.py runs them as commands, with
torchrun too)."""
import glob
import json
import os
import os.path as osp

import pytest
import torch


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
