"""The memory benchmark measures a real drop (tolerant: machines are noisy)."""
import json
import os.path as osp
import subprocess
import sys

import pytest

DEMO = ('configs/demo/'
        'deeplabv3-infopro_r18-d8_1xb4-300_synthetic-cityscapes-128x256.py')


def test_infopro_k2_needs_less_memory_than_e2e(repo_root, tmp_path):
    out = tmp_path / 'bench.json'
    proc = subprocess.run([
        sys.executable, 'tools/analysis/benchmark_memory.py', DEMO, '--cases',
        'e2e', 'k2', '--batch', '2', '--crop', '128', '256', '--iters', '2',
        '--out',
        str(out)
    ],
                          cwd=repo_root,
                          capture_output=True,
                          text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
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
def test_bad_case_is_refused(repo_root, spec):
    proc = subprocess.run([
        sys.executable, 'tools/analysis/benchmark_memory.py', DEMO, '--cases',
        spec
    ],
                          cwd=repo_root,
                          capture_output=True,
                          text=True)
    assert proc.returncode != 0 and spec in proc.stderr


def test_plot_memory_writes_a_png(repo_root, tmp_path, run_python):
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
    again = run_python(
        repo_root, 'tools/analysis/plot_memory.py', str(src), check=False)
    assert again.returncode != 0 and '--overwrite' in again.stderr


def test_fit_finds_the_largest_batch_that_trains(repo_root, tmp_path,
                                                 run_python):
    out = tmp_path / 'fit.json'
    proc = run_python(repo_root, 'tools/analysis/fit.py', DEMO, '--budget',
                      '100MB', '--device', 'cpu', '--crops', '64x128',
                      '--methods', 'e2e', 'k2', '--amp', 'off', '--max-batch',
                      '3', '--out', str(out))
    report = json.loads(out.read_text())
    assert set(report['table']) == {'e2e', 'k2'}
    fits = {(t['case'], t['batch']): t['fits'] for t in report['trials']}
    for spec, row in report['table'].items():
        batch = row['64x128']
        assert 0 <= batch <= 3
        # What the table says was run: batch fits, batch + 1 does not.
        if batch:
            assert fits[(spec, batch)]
        if batch < 3:
            assert not fits[(spec, batch + 1)]
    assert '| k2 |' in proc.stdout


@pytest.mark.parametrize('args, message', [
    (['--budget', 'lots'], 'use a size such as 24GB'),
    (['--budget', '1GB', '--crops', '512by1024'], 'must look like'),
    (['--budget', '1GB', '--methods', 'k2+amp'], 'AMP is --amp'),
])
def test_fit_rejects_bad_arguments(repo_root, run_python, args, message):
    proc = run_python(
        repo_root,
        'tools/analysis/fit.py',
        DEMO,
        '--device',
        'cpu',
        *args,
        check=False)
    assert proc.returncode != 0 and message in proc.stderr
