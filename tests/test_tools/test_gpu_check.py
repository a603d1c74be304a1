"""tools/analysis/gpu_check.py: the steps users run (train, inference,
2-process training with --resume, 2-process testing) run here on the CPU
with tiny settings — the same command lines the GPU check runs — in float64
where the Runner moves the model (the CPU stand-in for a GPU); and the
deadline skips what would start too late.

These are the suite's command-line runs of gpu_check.py, tools/train.py,
tools/test.py (through torchrun), demo/image_demo.py and of training with
torchrun; the other tests run the tools in the pytest process. The
1-process ``test`` step is left out here to keep the suite short: its
command is the ``test-ddp`` one without torchrun, and
tests/test_tools/test_train_test.py runs it in this process."""
import json
import os.path as osp

DEMO = ('configs/demo/'
        'deeplabv3-infopro_r18-d8_1xb4-300_synthetic-cityscapes-128x256.py')
USER_STEPS = ('train', 'inference', 'ddp', 'test-ddp')


def test_user_steps_run_where_the_runner_moves_the_model(
        repo_root, tmp_path, float64_config, run_python):
    out = tmp_path / 'check'
    config = float64_config(tmp_path / 'float64.py', osp.join(repo_root, DEMO))
    run_python(
        repo_root,
        'tools/analysis/gpu_check.py',
        '--out',
        str(out),
        '--device',
        'cpu',
        '--config',
        config,
        '--crop',
        '64',
        '128',
        '--batch',
        '2',
        '--iters',
        '2',
        '--steps',
        *USER_STEPS)
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['environment']['torch']
    steps = summary['steps']
    for step in USER_STEPS:
        log = (out / f'{step}.log').read_text()
        assert steps[step]['exit_code'] == 0, log[-4000:]
        if step != 'inference':
            assert 'Float64Runner' in log
    # The automatic split is measured for training only ...
    assert steps['train']['split_measured']
    assert steps['train']['iterations_logged'] == 2
    assert steps['train']['validated']
    scalars = json.loads((out / 'train.json').read_text())
    assert 'local1.loss_recon' in scalars[0]
    # ... the resumed run and every test take it from the checkpoint.
    ddp = steps['ddp']
    assert ddp['split_measured'] and ddp['resumed']
    assert ddp['split_from_checkpoint'] and ddp['iterations_logged'] == 2
    assert 'resumed epoch: 0, iter: 1' in (out / 'ddp.log').read_text()
    for step in ('test-ddp', 'inference'):
        assert not steps[step]['split_measured'], step
    assert steps['test-ddp']['split_from_checkpoint']
    assert 0 <= steps['test-ddp']['metrics']['mIoU'] <= 100
    assert (out / 'inference.png').is_file()
    # Two processes on the CPU with the paper's SyncBN: per-process BN, as
    # the wrapper says; the module losses and a validation in the log.
    log = (out / 'ddp.log').read_text()
    assert 'SyncBN needs GPU tensors' in log
    assert 'local1.loss_recon' in log and 'mIoU' in log


def test_steps_past_the_deadline_are_skipped(run_tool, tmp_path):
    out = tmp_path / 'late'
    run_tool('tools/analysis/gpu_check.py', '--out', str(out), '--device',
             'cpu', '--steps', 'benchmark', 'fit-24GB', '--deadline-s', '1')
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['steps'] == {
        'benchmark': dict(skipped='deadline'),
        'fit-24GB': dict(skipped='deadline')
    }
    # A second check into the folder keeps the first one's results.
    (out / 'train.log').write_text('an earlier run')
    proc = run_tool('tools/analysis/gpu_check.py', '--out', str(out),
                    '--device', 'cpu', '--steps', 'benchmark',
                    '--deadline-s', '1')
    (kept, ) = out.glob('replaced_*')
    assert json.loads((kept / 'summary.json').read_text()) == summary
    assert (kept / 'train.log').read_text() == 'an earlier run'
    assert f'moved the earlier results to {kept}' in proc.stdout
    assert json.loads((out / 'summary.json').read_text())['steps'] == {
        'benchmark': dict(skipped='deadline')
    }


def test_the_budget_step_leaves_the_batch_to_the_flag(tool_module, tmp_path):
    """The train-budget step's command (it runs on the GPU; the flag itself
    runs in tests/test_tools/test_train_memory_budget.py)."""
    import argparse
    gpu_check = tool_module('tools/analysis/gpu_check.py')
    args = argparse.Namespace(
        config=DEMO, device='cpu', crop=(64, 128), batch=2, iters=2,
        budget='300MB')
    cmd, = gpu_check.Commands(args, str(tmp_path))('train-budget',
                                                   str(tmp_path))
    assert cmd[cmd.index('--memory-budget') + 1] == '300MB'
    assert 'model.data_preprocessor.size=(64,128)' in cmd
    assert not [o for o in cmd if o.startswith(
        ('train_dataloader.batch_size', 'model.balance_shape'))]
