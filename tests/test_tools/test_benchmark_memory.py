"""The memory benchmark measures a real drop (tolerant: machines are noisy)."""
import json
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
