"""The memory benchmark measures a real drop (tolerant: machines are noisy).
Every case is measured in a process of its own; each tool runs once as a
command, its other tests in this process."""
import json
import os.path as osp

import pytest

DEMO = ('configs/demo/'
        'deeplabv3-infopro_r18-d8_1xb4-300_synthetic-cityscapes-128x256.py')


def test_infopro_k2_needs_less_memory_than_e2e(run_python, repo_root,
                                               tmp_path):
    out = tmp_path / 'bench.json'
    proc = run_python(repo_root, 'tools/analysis/benchmark_memory.py', DEMO,
                      '--cases', 'e2e', 'k2', '--batch', '2', '--crop', '128',
                      '256', '--iters', '1', '--out', str(out))
    report = json.loads(out.read_text())
    e2e, k2 = report['results']
    assert (e2e['case'], k2['case']) == ('e2e', 'k2')
    assert e2e['split_points'] == [] and len(k2['split_points']) == 1
    assert k2['peak_mb'] < 0.9 * e2e['peak_mb'], report['results']
    assert report['environment']['torch']
    assert '| e2e |' in proc.stdout
    # Per module: the planner's model next to the measured peak, which
    # together make the step's peak.
    assert len(k2['module_peaks_mb']) == len(k2['modules_modelled']) == 2
    assert max(k2['module_peaks_mb']) <= k2['peak_mb'] + 1e-6
    modelled = k2['modules_modelled']
    assert [m['start'] for m in modelled] == [0, k2['split_points'][0]]
    assert all(m['total'] > 0 for m in modelled)
    assert '| k2 | 2 |' in proc.stdout
    assert e2e['module_peaks_mb'] == e2e['modules_modelled'] == []


def test_labels_follow_the_config_classes(repo_root):
    """CamVid has 11 classes: random labels of Cityscapes' 19 would fail."""
    from mmseg_infopro.analysis import measure_case
    r = measure_case(
        osp.join(repo_root, 'configs/camvid/deeplabv3-infopro-k2_'
                 'r18w32-d16_1xb8-600_camvid-176x240.py'),
        'k2',
        batch=2,
        crop=(64, 96),
        iters=1,
        warmup=0)
    assert r['fits'] and r['peak_mb'] > 0


@pytest.mark.parametrize('spec', ['k2+foo', 'x2', 'e2e+split=3'])
def test_bad_case_is_refused(run_tool, spec):
    proc = run_tool(
        'tools/analysis/benchmark_memory.py', DEMO, '--cases', spec,
        check=False)
    assert proc.returncode != 0 and spec in proc.stderr


@pytest.mark.parametrize('tool', ['benchmark_memory.py', 'fit.py'])
@pytest.mark.parametrize('args, message', [
    (['nope.py'], 'config nope.py does not load (FileNotFoundError'),
    ([DEMO, '--cfg-options', 'model.backbone.depth=7'],
     'invalid depth 7 for resnet'),
    ([DEMO, '--cfg-options', 'model.backbone.depth', '=', '18'],
     "'model.backbone.depth' is not KEY=VALUE"),
])
def test_config_mistakes_stop_before_measuring(run_tool, tool, args,
                                               message):
    """Before: a traceback, or one per case from its process."""
    extra = ['--budget', '1GB', '--device', 'cpu'] if tool == 'fit.py' else []
    proc = run_tool(f'tools/analysis/{tool}', *args, *extra, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and len(lines) == 1, proc.stderr[-2000:]
    assert lines[0].startswith('error: ') and message in lines[0]


@pytest.mark.parametrize('tool, args', [
    ('benchmark_memory.py', ['--crop', '0', '0']),
    ('fit.py', ['--budget', '1GB', '--device', 'cpu', '--crops', '0x0']),
])
def test_empty_crops_are_refused(run_tool, tool, args):
    proc = run_tool(f'tools/analysis/{tool}', DEMO, *args, check=False)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert 'crop' in proc.stderr.splitlines()[-1]


def test_plot_memory_writes_a_png(repo_root, tmp_path, run_python, run_tool):
    report = dict(
        batch=2,
        crop=[64, 128],
        environment=dict(torch='x', cpus=2),
        results=[
            dict(case='e2e', peak_mb=100.0, sec_per_iter=1.0),
            dict(case='k2', peak_mb=60.0, sec_per_iter=1.05)
        ])
    src = tmp_path / 'r.json'
    src.write_text(json.dumps(report))
    run_python(repo_root, 'tools/analysis/plot_memory.py', str(src))
    png = tmp_path / 'r.png'
    assert png.read_bytes()[:4] == b'\x89PNG'
    again = run_tool('tools/analysis/plot_memory.py', str(src), check=False)
    assert again.returncode != 0 and '--overwrite' in again.stderr
    # The report itself as --out: refused, even with --overwrite.
    proc = run_tool('tools/analysis/plot_memory.py', str(src), '--out',
                    str(src), '--overwrite', check=False)
    assert proc.returncode == 1 and 'is the input' in proc.stderr
    assert json.loads(src.read_text()) == report


def _table_matches_its_trials(report, max_batch):
    """What the table says was run: its batch fits, batch + 1 does not."""
    fits = {(t['case'], tuple(t['crop']), t['batch']): t['fits']
            for t in report['trials']}
    for spec, row in report['table'].items():
        for crop, batch in row.items():
            crop = tuple(map(int, crop.split('x')))
            assert 0 <= batch <= max_batch
            if batch:
                assert fits[(spec, crop, batch)]
            if batch < max_batch:
                assert not fits[(spec, crop, batch + 1)]


def test_fit_searches_every_crop_for_a_fit_next_to_a_failure(
        run_tool, tmp_path, monkeypatch):
    """The search on a memory model (a fixed part plus a part per image and
    pixel): the largest batches are the model's, found from its trials
    (without the planner's guess: tests/test_memory_budget/test_search.py
    has it)."""
    import mmseg_infopro.memory_budget.search as budget_search
    per_image = dict(e2e=10.0, k2=6.0)  # MB at 64x128

    def trial(config, spec, batch, crop, device, **kwargs):
        mb = 20 + per_image[spec] * batch * crop[0] * crop[1] / (64 * 128)
        return dict(case=spec, batch=batch, crop=list(crop), fits=True,
                    peak_mb=mb)

    monkeypatch.setattr(budget_search, 'run_case', trial)
    monkeypatch.setattr(budget_search, 'planner_prediction',
                        lambda *args: None)
    out = tmp_path / 'fit.json'
    proc = run_tool('tools/analysis/fit.py', DEMO, '--budget', '100MB',
                    '--margin', '0', '--device', 'cpu', '--crops', '64x128',
                    '128x256',
                    '--methods', 'e2e', 'k2', '--amp', 'off', '--max-batch',
                    '12', '--out', str(out))
    report = json.loads(out.read_text())
    # (100 - 20) MB over 10, 40, 6 and 24 MB per image; k2 at 64x128 is
    # capped by --max-batch.
    assert report['table'] == {
        'e2e': {'64x128': 8, '128x256': 2},
        'k2': {'64x128': 12, '128x256': 3}
    }
    _table_matches_its_trials(report, 12)
    assert '| e2e | 8 | 2 |' in proc.stdout
    # Below the memory of one image at the smallest crop: batch 0
    # everywhere, after that one trial.
    run_tool('tools/analysis/fit.py', DEMO, '--budget', '25MB', '--margin',
             '0', '--device', 'cpu', '--crops', '64x128', '128x256',
             '--methods', 'k2',
             '--amp', 'off', '--out', str(out))
    report = json.loads(out.read_text())
    assert report['table'] == {'k2': {'64x128': 0, '128x256': 0}}
    trial, = report['trials']
    assert (trial['case'], trial['batch']) == ('k2', 1)
    assert trial['peak_mb'] > 25 and not trial['fits']


@pytest.mark.parametrize('args, message', [
    (['--budget', 'lots'], "--budget 'lots': give a size such as 24GB"),
    (['--budget', '1GB', '--margin', '1'], '--margin 1.0: give a fraction'),
    (['--budget', '1GB', '--crops', '512by1024'], 'must look like'),
    (['--budget', '1GB', '--methods', 'k2+amp'], 'AMP is --amp'),
])
def test_fit_rejects_bad_arguments(run_tool, args, message):
    """In this process; the command runs in the test above."""
    proc = run_tool(
        'tools/analysis/fit.py',
        DEMO,
        '--device',
        'cpu',
        *args,
        check=False)
    assert proc.returncode != 0 and message in proc.stderr


@pytest.mark.parametrize('tool', ['benchmark_memory.py', 'fit.py'])
def test_out_is_never_the_config(run_tool, tool, tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text(f"_base_ = '{osp.abspath(DEMO)}'\n")
    before = config.read_text()
    args = ['--cases', 'k2'] if tool == 'benchmark_memory.py' else [
        '--budget', '1GB', '--device', 'cpu'
    ]
    proc = run_tool(f'tools/analysis/{tool}', str(config), *args, '--out',
                    str(config), check=False)
    assert proc.returncode == 1 and 'is the input' in proc.stderr
    assert config.read_text() == before


def test_fit_measures_a_real_training_step_against_the_budget(
        run_python, repo_root, tmp_path):
    """fit.py as a command: a real trial (a process of its own) measured
    against a budget below one image leaves batch 0, and the search stops
    (the search itself: test_fit_searches_every_crop_...)."""
    out = tmp_path / 'fit.json'
    proc = run_python(repo_root, 'tools/analysis/fit.py', DEMO, '--budget',
                      '1MB', '--device', 'cpu', '--crops', '64x128',
                      '--methods', 'k2', '--amp', 'off', '--max-batch', '2',
                      '--out', str(out))
    report = json.loads(out.read_text())
    assert report['table'] == {'k2': {'64x128': 0}}
    assert report['trials'][0]['peak_mb'] > 1  # measured
    assert '| k2 | 0 |' in proc.stdout
