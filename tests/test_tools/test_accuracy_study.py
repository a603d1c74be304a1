"""tools/analysis/accuracy_study.py end to end: 2 methods of a tiny CamVid
config at one seed, 2 iterations each, then a rerun that skips them. The
study runs in this process, the rerun as a command; each training is a
tools/train.py process."""
import json
import os.path as osp

import pytest
from mmengine.config import Config

CAMVID = 'configs/camvid/deeplabv3{}_r18w32-d16_1xb8-600_camvid-176x240.py'


def tiny_config(path, base, root, imports):
    path.write_text(f"""
_base_ = '{base}'
{imports}
data_root = '{root}'
train_dataloader = dict(
    batch_size=2, num_workers=1, dataset=dict(data_root=data_root))
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
train_cfg = dict(max_iters=2, val_interval=2)
param_scheduler = [dict(type='PolyLR', end=2, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
""")
    return str(path)


def test_study_trains_collects_and_skips_finished_runs(
        run_tool, run_python, repo_root, camvid_root, tmp_path,
        test_imports):
    e2e = tiny_config(tmp_path / 'e2e.py',
                      osp.join(repo_root, CAMVID.format('')), camvid_root,
                      test_imports)
    k2 = tiny_config(tmp_path / 'k2.py',
                     osp.join(repo_root, CAMVID.format('-infopro-k2')),
                     camvid_root, test_imports)
    out = tmp_path / 'study'
    # One seed (test_delta_is_paired_by_seed covers several); not seed 0,
    # mmengine's usual, to see that the study's seed reaches training.
    args = ('tools/analysis/accuracy_study.py', e2e, '--run', 'k2-b2', k2,
            'model.balance_shape=(2,176,240)', '--seeds', '3', '--out',
            str(out), '--work-dir', str(tmp_path / 'runs'))
    proc = run_tool(*args)
    assert '[2/2] k2-b2 seed 3: mIoU' in proc.stdout
    summary = json.loads((out / 'summary.json').read_text())
    assert [m['name'] for m in summary['methods']] == ['e2e', 'k2-b2']
    assert summary['reference'] == 'e2e'
    e2e_row, k2_row = summary['methods']
    assert e2e_row['seeds'] == [3] and e2e_row['mIoU']['n'] == 1
    assert len(e2e_row['per_class']) == 11 and 'sky' in e2e_row['per_class']
    assert k2_row['delta_mIoU']['n'] == 1 and e2e_row['delta_mIoU'] is None
    assert len(k2_row['split_points']) == 1  # the automatic split, logged
    run = json.loads((out / 'runs' / 'k2-b2' / 'seed3.json').read_text())
    assert run['batch_size'] == 2 and run['images_seen'] == 4
    assert run['iters_timed'] == 2 and not run['resumed']
    assert run['iter'] == 2 and run['options'] == [
        'model.balance_shape=(2,176,240)'
    ]
    assert 'k2-b2' in (out / 'summary.md').read_text()
    assert (out / 'summary.png').stat().st_size > 0
    # The seed reaches training: the config it trained with (mmengine's
    # dump in the run's work dir) and its log.
    trained = Config.fromfile(str(tmp_path / 'runs' / 'e2e' / 'seed3' /
                                  'e2e.py'))
    assert trained.randomness.seed == 3
    log = (tmp_path / 'runs' / 'e2e' / 'seed3' / 'train.log').read_text()
    assert 'randomness.seed=3' in log and 'seed: 3' in log
    # Next to the result: the telling lines of the log, not the environment.
    kept = (out / 'runs' / 'k2-b2' / 'seed3.log').read_text()
    assert kept.startswith('$ ') and 'randomness.seed=3' in kept
    assert 'InfoPro: K=2, automatic split_points=' in kept
    assert 'Iter(val)' in kept
    for dumped in ('sys.platform', 'Build settings', 'resume = '):
        assert dumped in log and dumped not in kept

    # A run finished elsewhere (a moved result) gets its log on the rerun.
    (out / 'runs' / 'e2e' / 'seed3.log').unlink()
    again = run_python(repo_root, *args)
    assert again.stdout.count('finished, skipped') == 2
    assert 'training' not in again.stdout
    assert 'Iter(val)' in (out / 'runs' / 'e2e' / 'seed3.log').read_text()


def test_study_refuses_duplicate_names_and_bad_runs(run_tool, tmp_path):
    config = CAMVID.format('')
    proc = run_tool(
        'tools/analysis/accuracy_study.py',
        config,
        config,
        '--out',
        str(tmp_path),
        check=False)
    assert proc.returncode != 0 and 'unique' in proc.stderr
    proc = run_tool(
        'tools/analysis/accuracy_study.py',
        '--run',
        'x',
        config,
        'batch',
        '--out',
        str(tmp_path),
        check=False)
    assert proc.returncode != 0 and "'batch' is not key=value" in proc.stderr


@pytest.fixture
def study_runs(tool_module):
    """The study's engine, tools/analysis/study_runs.py."""
    return tool_module('tools/analysis/study_runs.py')


def test_delta_is_paired_by_seed(study_runs):
    runs = [
        dict(name=n, seed=s, mIoU=v, mAcc=v, per_class={}, wall_s=1,
             max_rss_mb=1) for n, s, v in [('a', 0, 50.0), ('a', 1, 40.0),
                                           ('b', 0, 52.0), ('b', 1, 41.0),
                                           ('b', 2, 90.0)]
    ]
    summary = study_runs.summarise(runs, ['a', 'b'], 'a')
    delta = summary['methods'][1]['delta_mIoU']
    assert delta['n'] == 2 and delta['mean'] == pytest.approx(1.5)


def test_split_is_read_from_measured_and_resumed_runs(study_runs, tmp_path):
    _split_points = study_runs._split_points
    log = tmp_path / 'train.log'
    log.write_text('x - InfoPro: K=4, automatic split_points=(4, 6, 8)\n')
    assert _split_points(str(log)) == [4, 6, 8]
    log.write_text('x - InfoPro: split_points=(6,) as recorded in a.pth\n')
    assert _split_points(str(log)) == [6]


def test_resumed_run_is_timed_for_its_whole_schedule(study_runs, tmp_path):
    # A run stopped at iteration 200 and resumed: its result times the last
    # attempt only (800 iterations in 4000 s), the summary the whole run.
    _resumed_iter = study_runs._resumed_iter
    log = tmp_path / 'train.log'
    log.write_text('\n$ python tools/train.py a.py\n'
                   'x - Iter(train) [ 200/1000]\n'
                   '\n$ python tools/train.py a.py --resume\n'
                   'x - INFO - resumed epoch: 0, iter: 200\n'
                   'x - Iter(train) [ 250/1000]\n')
    assert _resumed_iter(str(log)) == 200
    # Only the last attempt counts: a later fresh start resumed nothing.
    log.write_text(log.read_text() + '\n$ python tools/train.py a.py\n')
    assert _resumed_iter(str(log)) == 0

    run = dict(name='a', seed=0, mIoU=50.0, mAcc=60.0, per_class={},
               max_rss_mb=1, iter=1000)
    resumed = dict(run, wall_s=4000.0, iters_timed=800)
    older = dict(run, seed=1, wall_s=3000.0)  # a result without the field
    wall = study_runs.summarise([resumed, older], ['a'],
                                None)['methods'][0]['wall_s']
    assert wall['mean'] == pytest.approx((5000.0 + 3000.0) / 2)
