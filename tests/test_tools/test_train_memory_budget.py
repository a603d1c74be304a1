"""tools/train.py --memory-budget: the largest batch for a budget, taken by
everything that depends on it, recorded, and kept by --resume and
tools/test.py. The search's trial steps stand in for by a memory model,
except in the test of a budget below one image (one real trial)."""
import json
import os.path as osp
import re

import pytest
from mmengine.config import Config

import mmseg_infopro.memory_budget.search as budget_search
from mmseg_infopro.utils import load_config


@pytest.fixture
def trials(monkeypatch):
    """Trial steps of 10 MB + 4 MB per 64x128 image for InfoPro K >= 2,
    8 MB for K = 1 (E2E); the planner's guess left out."""
    runs = []

    def trial(config, spec, batch, crop, device, **kwargs):
        k = load_config(config).model.backbone.num_local_modules
        runs.append((k, batch))
        mb = 10 + (4 if k > 1 else 8) * batch * crop[0] * crop[1] / 8192
        return dict(
            case=spec, batch=batch, crop=list(crop), fits=True, peak_mb=mb)

    monkeypatch.setattr(budget_search, 'run_case', trial)
    monkeypatch.setattr(budget_search, 'planner_prediction',
                        lambda *args: None)
    return runs


@pytest.mark.slow
def test_budget_picks_batch_records_it_and_resume_keeps_it(
        trials, run_tool, user_config, synthetic_root, tmp_path):
    cfg = user_config(tmp_path / 'cfg.py', synthetic_root, 2)
    work_dir = str(tmp_path / 'k2')
    k2 = run_tool('tools/train.py', cfg, '--work-dir', work_dir,
                  '--memory-budget', '50MB')
    # 45 MB (10 % kept free): (45 - 10) / 4 MB per image (E2E, 8 MB per
    # image, gets 4: tests/test_engine/test_budget_choice.py).
    record = json.load(open(osp.join(work_dir, 'memory_budget.json')))
    assert (record['batch'], record['crop']) == (8, [64, 128])
    assert record['limit_mb'] == 45 and trials[-1] == (2, 9)
    assert 'batch 8 of 64x128 (42 MB measured); 9 x 64x128 did not fit' \
        in k2.stdout
    # The training's own peak, measured by the hook, is in the record: the
    # largest of the iterations' logged peaks (on the CPU the growth of
    # iteration 2 over 1: tiny here; the budget is the stand-in's, so not
    # compared; tests/test_engine/test_hooks has the hook on its own).
    logged = [
        float(v) for v in re.findall(r'budget_peak_mb: ([0-9.]+)', k2.stdout)
    ]
    assert logged and record['training_peak_mb'] == \
        pytest.approx(max(logged), abs=0.1)
    assert 'training_within_budget' in record
    # The config the Runner dumped trains the choice.
    dumped = Config.fromfile(osp.join(work_dir, 'cfg.py'))
    assert dumped.train_dataloader.batch_size == 8
    assert tuple(dumped.model.balance_shape) == (8, 64, 128)
    assert dumped.memory_budget['batch'] == 8
    # --resume takes the record, whatever budget it is given: no trial.
    trials.clear()
    again = run_tool('tools/train.py', cfg, '--work-dir', work_dir, '--resume',
                     '--memory-budget', '10GB')
    assert 'not searched again' in again.stdout and trials == []
    assert "differs from the resumed run's 50MB" in again.stdout
    dumped = Config.fromfile(osp.join(work_dir, 'cfg.py'))
    assert dumped.train_dataloader.batch_size == 8
    # tools/test.py with the config as written (batch 2): nothing searched,
    # the split from the checkpoint.
    test = run_tool('tools/test.py', cfg, osp.join(work_dir, 'iter_2.pth'),
                    '--work-dir', str(tmp_path / 'test'))
    assert 'mIoU' in test.stdout and trials == []


@pytest.mark.parametrize('args, message', [
    (['--memory-budget', 'lots'], "--memory-budget 'lots': give a size"),
    (['--memory-budget', '1GB', '--memory-margin', '1.5'], 'in [0, 1)'),
    (['--fit', 'crop'], 'give the budget too'),
])
def test_malformed_budget_arguments_are_one_line(run_tool, user_config,
                                                 synthetic_root, tmp_path,
                                                 args, message):
    cfg = user_config(tmp_path / 'cfg.py', synthetic_root, 2)
    proc = run_tool(
        'tools/train.py',
        cfg,
        '--work-dir',
        str(tmp_path / 'w'),
        *args,
        check=False)
    assert proc.returncode == 1
    last, = proc.stderr.strip().splitlines()
    assert last.startswith('error: ') and message in last


@pytest.mark.slow
def test_a_budget_below_one_image_stops_before_any_dataloader(
        run_tool, user_config, synthetic_root, tmp_path, monkeypatch):
    """A real trial step (a process of its own) measured against 1 MB
    (the planner's guess left out: it would start at batch 1 too)."""
    from mmengine.runner import Runner

    def no_dataloader(*args, **kwargs):
        raise AssertionError('a dataloader was built')

    monkeypatch.setattr(Runner, 'build_dataloader', no_dataloader)
    monkeypatch.setattr(budget_search, 'planner_prediction',
                        lambda *args: None)
    cfg = user_config(tmp_path / 'cfg.py', synthetic_root, 2)
    work_dir = tmp_path / 'w'
    proc = run_tool(
        'tools/train.py',
        cfg,
        '--work-dir',
        str(work_dir),
        '--memory-budget',
        '1MB',
        check=False)
    assert proc.returncode == 1
    last, = proc.stderr.strip().splitlines()
    assert last.startswith('error: --memory-budget 1MB: not even batch 1 '
                           'at 64x128 fits (')
    assert 'num_local_modules=4' in last and 'with_cp' in last
    assert not list(work_dir.glob('*.pth'))
