"""Peak memory of a training step and of each local module in it.

On CUDA: ``torch.cuda.memory_allocated`` and its peak. On CPU: the resident
set and its peak (VmRSS, VmHWM; the peak is reset by writing 5 to
``/proc/self/clear_refs``), with ``MALLOC_MMAP_THRESHOLD_=131072`` set for
the process so that freed activations leave the resident set.
"""
import os
from typing import List

import torch
import torch.nn as nn

__all__ = ['MemoryTracker', 'ModulePeaks']


class MemoryTracker:
    """Current and peak memory of this process on ``device``.

    Args:
        device (torch.device): The device the model trains on.
    """

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == 'cuda'

    def current(self) -> int:
        """Bytes in use now."""
        if self.cuda:
            return torch.cuda.memory_allocated()
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')

    def reset_peak(self) -> None:
        """Start a new peak from the current use."""
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
        else:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')

    def peak(self) -> int:
        """Bytes at the peak since :meth:`reset_peak`."""
        if self.cuda:
            return torch.cuda.max_memory_allocated()
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
        raise RuntimeError('VmHWM not in /proc/self/status')


class ModulePeaks:
    """Records the peak of every local module of an InfoPro model's
    training steps: from the start of its forward to the end of its
    backward, through the segmentor's seams ``module_loss`` and
    ``backward_module``.

    After each module the peak restarts, so :attr:`segments` (module peaks,
    then the rest of the step: optimizer step and ``zero_grad``) together
    give the step's overall peak.

    Args:
        model (nn.Module): An ``InfoProEncoderDecoder``.
        tracker (MemoryTracker): Reads the memory.
    """

    def __init__(self, model: nn.Module, tracker: MemoryTracker) -> None:
        self.tracker = tracker
        #: Per step: the peak (bytes) of every module, then of the rest.
        self.segments: List[List[int]] = []
        module_loss, backward_module = model.module_loss, model.backward_module

        def tracked_loss(module: int, *args, **kwargs):
            tracker.reset_peak()
            return module_loss(module, *args, **kwargs)

        def tracked_backward(loss, optim_wrapper, last: bool) -> None:
            backward_module(loss, optim_wrapper, last)
            self.segments[-1].append(tracker.peak())
            tracker.reset_peak()

        model.module_loss = tracked_loss
        model.backward_module = tracked_backward

    def start_step(self) -> None:
        """Call before every training step."""
        self.segments.append([])

    def end_step(self) -> None:
        """Call after every training step."""
        self.segments[-1].append(self.tracker.peak())
