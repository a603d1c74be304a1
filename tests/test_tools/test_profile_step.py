"""tools/analysis/profile_step.py: every part of a training step timed at
its seams, the backward cut where each head's gradient is complete, E2E and
InfoPro interleaved in one process."""
import json

import pytest

DEMO = ('configs/demo/'
        'deeplabv3-infopro_r18-d8_1xb4-300_synthetic-cityscapes-128x256.py')


@pytest.mark.slow  # two models trained two steps each
def test_every_part_of_the_step_is_timed(run_tool, tmp_path):
    out = tmp_path / 'profile.json'
    proc = run_tool('tools/analysis/profile_step.py', DEMO, '--cases', 'e2e',
                    'k2', '--batch', '2', '--crop', '64', '128', '--iters',
                    '2', '--warmup', '1', '--out', str(out))
    report = json.loads(out.read_text())
    e2e, k2 = report['seconds']['e2e'], report['seconds']['k2']
    assert len(report['split_points']['k2']) == 1
    # E2E: the backbone and its heads, forward and backward.
    for part in ('preprocess', 'm1.fwd', 'heads.fwd', 'heads.bwd', 'm1.bwd',
                 'optimizer'):
        assert e2e[part] > 0, part
    # InfoPro K = 2: both modules, and module 1's two local branches each
    # with a backward of its own (the hooks fired in autograd's order).
    for part in ('m1.fwd', 'm1.bwd', 'm2.fwd', 'm2.bwd', 'm1.task.fwd',
                 'm1.task.bwd', 'm1.recon.fwd', 'm1.recon.bwd', 'heads.fwd',
                 'heads.bwd'):
        assert k2[part] > 0, part
    for case in (e2e, k2):
        # The parts do not overlap: what is left of the step is >= 0, and
        # small (loss parsing, log variables).
        assert 0 <= case['other'] < 0.3 * case['step'], case
    assert len(report['samples']['k2']['step']) == 2
    ratio = report['ratio_to_e2e']['k2']
    assert ratio['min'] <= ratio['median'] <= ratio['max']
    assert report['ratio_to_e2e']['e2e']['median'] == 1
    assert '| m1.recon.bwd |' in proc.stdout and '× E2E' in proc.stdout
