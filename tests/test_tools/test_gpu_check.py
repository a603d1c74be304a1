"""tools/analysis/gpu_check.py: the steps users run (train, test, inference,
2-process training with --resume, 2-process testing) run here on the CPU
with tiny settings — the same command lines the GPU check runs — in float64
where the Runner moves the model (the CPU stand-in for a GPU); and the
deadline skips what would start too late."""
import json
import os.path as osp
import subprocess
import sys

DEMO = ('configs/demo/'
        'deeplabv3-infopro_r18-d8_1xb4-300_synthetic-cityscapes-128x256.py')
USER_STEPS = ('train', 'test', 'inference', 'ddp', 'test-ddp')


def test_user_steps_run_where_the_runner_moves_the_model(
        repo_root, tmp_path, float64_config, stand_in_env):
    out = tmp_path / 'check'
    config = float64_config(tmp_path / 'float64.py', osp.join(repo_root, DEMO))
    proc = subprocess.run([
        sys.executable, 'tools/analysis/gpu_check.py', '--out',
        str(out), '--device', 'cpu', '--config', config, '--crop', '64',
        '128', '--batch', '2', '--iters', '2', '--steps', *USER_STEPS
    ],
                          cwd=repo_root,
                          env=stand_in_env,
                          capture_output=True,
                          text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
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
    for step in ('test', 'test-ddp', 'inference'):
        assert not steps[step]['split_measured'], step
    for step in ('test', 'test-ddp'):
        assert steps[step]['split_from_checkpoint']
        assert 0 <= steps[step]['metrics']['mIoU'] <= 100
    assert (out / 'inference.png').is_file()


def test_steps_past_the_deadline_are_skipped(run_python, repo_root,
                                             tmp_path):
    out = tmp_path / 'late'
    run_python(repo_root, 'tools/analysis/gpu_check.py', '--out', str(out),
               '--device', 'cpu', '--steps', 'benchmark', 'fit-24GB',
               '--deadline-s', '1')
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['steps'] == {
        'benchmark': dict(skipped='deadline'),
        'fit-24GB': dict(skipped='deadline')
    }
