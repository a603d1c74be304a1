"""The peak memory of each local module in an InfoPro training step."""
from typing import List, Tuple

import torch.nn as nn

from ..utils.memory import MemoryTracker

__all__ = ['ModulePeaks']


class ModulePeaks:
    """Records the peak of every local module of an InfoPro model's
    training steps: from the start of its forward to the end of its
    backward, through the segmentor's seams ``module_loss`` and
    ``backward_module``.

    After each module the peaks restart, so :attr:`segments` (module peaks,
    then the rest of the step: optimizer step and ``zero_grad``) together
    give the step's overall peaks. Each entry is
    :meth:`~mmseg_infopro.utils.MemoryTracker.peaks`: ``(peak,
    peak_allocated)``, the same figure on the CPU, reserved and allocated
    on CUDA.

    Args:
        model (nn.Module): An ``InfoProEncoderDecoder``.
        tracker (MemoryTracker): Reads the memory.
    """

    def __init__(self, model: nn.Module, tracker: MemoryTracker) -> None:
        self.tracker = tracker
        #: Per step: the peaks (bytes) of every module, then of the rest.
        self.segments: List[List[Tuple[int, int]]] = []
        module_loss, backward_module = model.module_loss, model.backward_module

        def tracked_loss(module: int, *args, **kwargs):
            tracker.reset_peak()
            return module_loss(module, *args, **kwargs)

        def tracked_backward(loss, optim_wrapper, last: bool) -> None:
            backward_module(loss, optim_wrapper, last)
            self.segments[-1].append(tracker.peaks())
            tracker.reset_peak()

        model.module_loss = tracked_loss
        model.backward_module = tracked_backward

    def start_step(self) -> None:
        """Call before every training step."""
        self.segments.append([])

    def end_step(self) -> None:
        """Call after every training step."""
        self.segments[-1].append(self.tracker.peaks())
