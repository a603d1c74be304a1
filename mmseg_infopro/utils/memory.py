"""The memory this process uses on a device, and its peak, in the figures
that matter there.

- CUDA: what PyTorch's caching allocator *reserved* from the GPU (its peak,
  ``max_memory_reserved``, is what ``torch.cuda.set_per_process_memory_
  fraction`` caps, so it decides whether a step fits a memory budget), and
  what tensors took of it (*allocated*, the figure the split planner
  models).
- CPU: the resident set and its peak (VmRSS, VmHWM; the peak is reset by
  writing 5 to ``/proc/self/clear_refs``), with
  ``MALLOC_MMAP_THRESHOLD_=131072`` set for the process so that freed
  activations leave the resident set: both figures are this one.
"""
import os
from typing import Tuple

import torch

__all__ = ['MemoryTracker']


class MemoryTracker:
    """Current and peak memory of this process on ``device``.

    Args:
        device (torch.device): The device the model trains on.
    """

    def __init__(self, device: torch.device) -> None:
        self.cuda = device.type == 'cuda'

    def current(self) -> int:
        """Bytes that tensors (CUDA) or the process (CPU) hold now."""
        if self.cuda:
            return torch.cuda.memory_allocated()
        with open('/proc/self/statm') as f:
            return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')

    def reset_peak(self) -> None:
        """Start new peaks from the current use."""
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
        else:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')

    def peak(self) -> int:
        """The budget's figure at its peak since :meth:`reset_peak`: bytes
        reserved (CUDA), the resident set (CPU)."""
        if self.cuda:
            return torch.cuda.max_memory_reserved()
        return self._resident_peak()

    def peak_allocated(self) -> int:
        """Bytes that tensors took at the peak since :meth:`reset_peak`
        (CUDA; on the CPU the resident set, as :meth:`peak`)."""
        if self.cuda:
            return torch.cuda.max_memory_allocated()
        return self._resident_peak()

    def peaks(self) -> Tuple[int, int]:
        """``(peak(), peak_allocated())``."""
        return self.peak(), self.peak_allocated()

    @staticmethod
    def _resident_peak() -> int:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
        raise RuntimeError('VmHWM not in /proc/self/status')
