"""MemoryBudgetHook on its own: every iteration's peak logged in the figure
the budget search decided on, a warning past the budget, the run's peak
added to the work dir's record (on CUDA, reserved and allocated both)."""
import gc
import json

import torch
from mmengine.logging import MessageHub

from mmseg_infopro.engine import MemoryBudgetHook
from mmseg_infopro.utils import BUDGET_RECORD

MB = 2**20


class Runner:
    """What the hook reads of mmengine's Runner."""

    def __init__(self, work_dir):
        self.model = torch.nn.Linear(2, 2)
        self.work_dir = str(work_dir)
        self.iter = 0
        self.message_hub = MessageHub.get_instance(f'budget-{id(self)}')


class Tracker:
    """A CUDA stand-in: the hook's tracker reads these peaks."""
    cuda = True

    def __init__(self, peaks):
        self._peaks = list(peaks)

    def reset_peak(self):
        pass

    def peaks(self):
        return self._peaks.pop(0)


def train(hook, runner, steps):
    hook.before_train(runner)
    for step in steps:
        hook.before_train_iter(runner, runner.iter)
        step()
        hook.after_train_iter(runner, runner.iter)
        runner.iter += 1
    hook.after_train(runner)


def test_the_cpu_peak_is_the_growth_in_an_iteration(tmp_path):
    record = tmp_path / BUDGET_RECORD
    record.write_text(json.dumps(dict(batch=2)))
    runner = Runner(tmp_path)
    hook = MemoryBudgetHook(budget_bytes=20 * MB)
    kept = []
    # Iteration 1 sets the base; iteration 2 touches 100 MB (over 20 MB).
    # (Garbage collected first: memory freed in between would lower the
    # resident set below the base.)
    gc.collect()
    steps = [lambda: None, lambda: kept.append(torch.ones(25 * MB))]
    train(hook, runner, steps)
    assert hook.warned  # once, past the budget
    logged = runner.message_hub.get_scalar('train/budget_peak_mb').current()
    assert logged >= 90
    saved = json.loads(record.read_text())
    assert saved['batch'] == 2  # the choice stays
    assert saved['training_peak_mb'] == round(logged, 1)
    assert saved['training_within_budget'] is False
    assert 'training_peak_allocated_mb' not in saved  # CPU: one figure


def test_cuda_records_reserved_and_allocated(tmp_path):
    """On CUDA the figure that decides is what the allocator reserved (the
    trials' cap); what tensors took is recorded beside it."""
    (tmp_path / BUDGET_RECORD).write_text('{}')
    runner = Runner(tmp_path)
    hook = MemoryBudgetHook(budget_bytes=100 * MB)
    hook.before_train = lambda runner: None
    hook._tracker = Tracker([(80 * MB, 60 * MB), (90 * MB, 50 * MB)])
    train(hook, runner, [lambda: None, lambda: None])
    saved = json.loads((tmp_path / BUDGET_RECORD).read_text())
    assert saved['training_peak_mb'] == 90.0
    assert saved['training_peak_allocated_mb'] == 60.0
    assert saved['training_within_budget'] is True
