"""tools/analysis/gpu_check.py: its training steps run here on the CPU with
tiny settings (the same command lines the GPU check runs), and the deadline
skips what would start too late."""
import json

DEMO = ('configs/demo/'
        'deeplabv3-infopro_r18-d8_1xb4-300_synthetic-cityscapes-128x256.py')


def test_training_steps_run_and_log_every_module(run_python, repo_root,
                                                 tmp_path):
    out = tmp_path / 'check'
    run_python(repo_root, 'tools/analysis/gpu_check.py', '--out', str(out),
               '--device', 'cpu', '--config', DEMO, '--crop', '64', '128',
               '--batch', '2', '--iters', '2', '--steps', 'train', 'ddp')
    summary = json.loads((out / 'summary.json').read_text())
    assert summary['environment']['torch']
    for step in ('train', 'ddp'):
        record = summary['steps'][step]
        assert record['exit_code'] == 0, (out / f'{step}.log').read_text()
        assert record['iterations_logged'] == 2 and record['validated']
        scalars = json.loads((out / f'{step}.json').read_text())
        assert 'local1.loss_recon' in scalars[0]


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
