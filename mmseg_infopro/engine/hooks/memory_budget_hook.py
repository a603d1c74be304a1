"""The peak memory of the training iterations, against the budget that
``tools/train.py --memory-budget`` chose the batch or crop for."""
import ctypes
import json
import logging
import os.path as osp
from typing import Optional

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from ...utils import BUDGET_RECORD, MemoryTracker, replaced_atomically

__all__ = ['MemoryBudgetHook']

#: glibc's mallopt parameter for the mmap threshold.
_M_MMAP_THRESHOLD = -3


@HOOKS.register_module()
class MemoryBudgetHook(Hook):
    """Measures every training iteration's peak memory as the budget search
    measured its trial steps, logs it (``budget_peak_mb``, with the other
    scalars), warns once when it passes the budget, and adds the run's peak
    to the work dir's record (``training_peak_mb``) when training ends.

    The peak is the figure the trials' fit was decided on
    (:meth:`~mmseg_infopro.utils.MemoryTracker.peak`): on CUDA what the
    caching allocator reserved (allocations and their fragmentation; the
    search caps the same quantity), with what tensors took recorded beside
    it (``training_peak_allocated_mb``); on the CPU the growth of the
    resident set over the one after the first iteration (weights and
    optimizer state in place) where, as in the trials, freed activations
    are returned to the system (glibc's mmap threshold 128 KB), so that the
    resident set shows what is in use.

    Args:
        budget_bytes (int): The budget.
        record (str): The record's file name in the work dir. Defaults to
            ``'memory_budget.json'``.
    """

    priority = 'NORMAL'  # before the LoggerHook writes this iteration

    def __init__(self,
                 budget_bytes: int,
                 record: str = BUDGET_RECORD) -> None:
        if budget_bytes <= 0:
            raise ValueError(f'budget_bytes must be > 0, got {budget_bytes}')
        self.budget_bytes = budget_bytes
        self.record = record
        self.peak = 0
        self.peak_allocated = 0
        self.measured = False  # an iteration after the first on the CPU
        self.warned = False
        self._tracker: Optional[MemoryTracker] = None
        self._base: Optional[int] = None

    def before_train(self, runner) -> None:
        device = next(runner.model.parameters()).device
        self._tracker = MemoryTracker(device)
        if device.type == 'cpu':
            try:
                ctypes.CDLL('libc.so.6').mallopt(_M_MMAP_THRESHOLD, 131072)
            except OSError:  # not glibc: the resident set keeps more
                pass
        else:
            torch.cuda.reset_peak_memory_stats(device)

    def before_train_iter(self,
                          runner,
                          batch_idx: int,
                          data_batch=None) -> None:
        if self._tracker.cuda or self._base is not None:
            self._tracker.reset_peak()

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch=None,
                         outputs=None) -> None:
        if self._tracker.cuda:
            peak, allocated = self._tracker.peaks()
        elif self._base is None:  # the first: optimizer state made
            self._base = self._tracker.current()
            return
        else:
            peak = allocated = self._tracker.peak() - self._base
        self.peak, self.measured = max(self.peak, peak), True
        self.peak_allocated = max(self.peak_allocated, allocated)
        runner.message_hub.update_scalar('train/budget_peak_mb', peak / 2**20)
        if peak > self.budget_bytes and not self.warned:
            self.warned = True
            print_log(
                f'Iteration {runner.iter + 1} peaked at '
                f'{peak / 2**20:.0f} MB, over the --memory-budget of '
                f'{self.budget_bytes / 2**20:.0f} MB: raise --memory-margin '
                f'for this run\'s kind of data.',
                logger='current',
                level=logging.WARNING)

    def after_train(self, runner) -> None:
        path = osp.join(runner.work_dir, self.record)
        if not is_main_process() or not osp.isfile(path) or \
                not self.measured:
            return
        with open(path) as f:
            record = json.load(f)
        peak_mb = max(self.peak / 2**20, record.get('training_peak_mb', 0))
        record.update(
            training_peak_mb=round(peak_mb, 1),
            training_within_budget=peak_mb * 2**20 <= self.budget_bytes)
        if self._tracker.cuda:
            record['training_peak_allocated_mb'] = round(
                max(self.peak_allocated / 2**20,
                    record.get('training_peak_allocated_mb', 0)), 1)
        with replaced_atomically(path) as tmp, open(tmp, 'w') as f:
            json.dump(record, f, indent=2)
        print_log(
            f'Training peaked at {peak_mb:.0f} MB of the --memory-budget '
            f'{self.budget_bytes / 2**20:.0f} MB (recorded in {path}).',
            logger='current')
