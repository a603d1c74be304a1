"""The largest batch, or crop, whose training step fits a memory budget.

Behind ``tools/train.py --memory-budget`` and ``tools/analysis/fit.py``.
Every candidate is a real training step (:func:`run_case`, a process of its
own): on CUDA under ``torch.cuda.set_per_process_memory_fraction`` (a step
that runs out of memory does not fit), on the CPU the growth of the resident
set over what weights and optimizer state hold, compared with the budget.

The search starts where the split planner (InfoPro's model of the memory of
a training step, :class:`~mmseg_infopro.models.utils.SplitPlanner`) puts the
budget, and continues from what the trials measured: memory is close to
affine in the pixels of a batch (``batch x H x W``), so one measured step and
the planner's slope, or two measured steps, place the next candidate. It
stops when a candidate that fits lies next to one that does not; with a good
prediction that is two trials.

A ``margin`` of the budget is kept for what one step in a fresh process does
not show: the CUDA context, dataloader workers' pinned buffers, cuDNN's
choice of workspace for other shapes, the caching allocator's fragmentation
after thousands of steps.
"""
import re
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch

from ..analysis import parse_case, run_case
from .prediction import planner_prediction

__all__ = [
    'parse_size', 'format_size', 'check_margin', 'batch_pixels',
    'crop_ladder', 'BudgetSearch'
]

_UNITS = {'': 1, 'B': 1, 'K': 2**10, 'M': 2**20, 'G': 2**30, 'T': 2**40}
#: Crops the search tries are multiples of this: the largest downsampling of
#: the backbones here (ResNet, MiT, EfficientNet: 32), so every stride's
#: feature map has whole pixels.
CROP_STEP = 32
#: ``fit='crop'`` goes up to this many times the configured crop per side.
MAX_CROP_SCALE = 2


def parse_size(text: str, flag: str = '--memory-budget') -> int:
    """``'24GB'`` -> bytes (binary units: 1 GB = 2**30 bytes; ``GiB``,
    ``G``, ``800MB``, ``1.5GB`` too).

    Raises:
        ValueError: For anything else, naming ``flag`` and the text.
    """
    match = re.fullmatch(r'\s*([0-9]*\.?[0-9]+)\s*([KMGT]?)(I?B)?\s*',
                         str(text).upper())
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f'{flag} {text!r}: give a size such as 24GB, 11GB '
                         f'or 800MB.')
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def format_size(num_bytes: float) -> str:
    """Bytes as the largest binary unit that keeps a number >= 1."""
    for unit in ('TB', 'GB', 'MB', 'KB'):
        if num_bytes >= _UNITS[unit[0]]:
            return f'{num_bytes / _UNITS[unit[0]]:.3g}{unit}'
    return f'{int(num_bytes)}B'


def check_margin(margin: float, flag: str = '--memory-margin') -> float:
    """The fraction of a budget kept free, checked.

    Raises:
        ValueError: Unless it lies in [0, 1), naming ``flag``.
    """
    if not 0 <= margin < 1:
        raise ValueError(f'{flag} {margin}: give a fraction in [0, 1), e.g. '
                         f'0.1.')
    return margin


def batch_pixels(batch: int, crop: Sequence[int]) -> int:
    """The pixels of ``batch`` images of ``crop``: what the memory of a
    training step grows with (close to affinely), the order of a search's
    candidates."""
    return batch * crop[0] * crop[1]


def crop_ladder(crop: Sequence[int]) -> List[Tuple[int, int]]:
    """Crops of ``crop``'s aspect ratio, heights ``2 * CROP_STEP`` up to
    ``MAX_CROP_SCALE`` times its height in steps of ``CROP_STEP`` (widths
    rounded to ``CROP_STEP``), smallest first."""
    h, w = crop
    if min(h, w) < 1:
        raise ValueError(f'crop must be (H, W) > 0, got {tuple(crop)!r}.')
    top = max(2, MAX_CROP_SCALE * h // CROP_STEP)
    return [(n * CROP_STEP, max(1, round(n * w / h)) * CROP_STEP)
            for n in range(2, top + 1)]


class BudgetSearch:
    """Searches the largest batch or crop of one training case that fits.

    Args:
        config (str): The config file the trials train.
        budget (int): Memory per process, in bytes.
        spec (str): The case (:func:`parse_case`): ``'config'`` trains the
            config as it is; ``e2e``, ``k<N>`` (with ``+cp``, ``+amp``) its
            variants. Defaults to ``'config'``.
        device (str): ``'cpu'``, ``'cuda'`` or ``'cuda:N'``. Defaults to
            ``'cpu'``.
        margin (float): Fraction of the budget kept free for what a trial
            step does not show (see the module docstring); trials must fit
            in ``budget * (1 - margin)``. Defaults to 0.1.
        cfg_options (Sequence[str]): ``key=value`` overrides of the config.
        max_batch (int): The largest batch considered. Defaults to 32.
        log (Callable[[str], None], optional): Told every trial.
        trial (Callable): Measures one training step: called as
            :func:`~mmseg_infopro.analysis.run_case` is (config, spec,
            batch, crop, device, iters=, warmup=, cfg_options=,
            memory_fraction=) and returning its dict (``fits`` and, when it
            ran, ``peak_mb``). Defaults to None: :func:`run_case` (a process
            per step).
        distributed (bool): The trials measure the step of a multi-process
            training (SyncBN kept, the model under its distributed
            wrapper). Defaults to False.

    Attributes:
        limit (int): Bytes a trial step may use.
        notes (list[str]): What the search had to change (a budget larger
            than the card, capped to it).
        trials (list[dict]): Every trial, as :func:`run_case` returns it.

    Raises:
        ValueError: For a margin outside [0, 1), or ``max_batch`` < 1.
    """

    def __init__(self,
                 config: str,
                 budget: int,
                 spec: str = 'config',
                 device: str = 'cpu',
                 margin: float = 0.1,
                 cfg_options: Sequence[str] = (),
                 max_batch: int = 32,
                 log: Optional[Callable[[str], None]] = None,
                 trial: Optional[Callable[..., Dict]] = None,
                 distributed: bool = False) -> None:
        check_margin(margin, 'the margin')
        if max_batch < 1:
            raise ValueError(f'max_batch must be >= 1, got {max_batch!r}.')
        parse_case(spec)
        self.config, self.spec, self.device = config, spec, device
        self.margin = margin
        self.cfg_options = list(cfg_options)
        self.max_batch, self.log = max_batch, log
        self._run_trial = trial if trial is not None else run_case
        self.distributed = distributed
        self.notes: List[str] = []
        self.budget, self.fraction = budget, None
        if device.startswith('cuda'):
            total = torch.cuda.get_device_properties(
                torch.device(device)).total_memory
            if budget > total:
                self.notes.append(
                    f'the budget {format_size(budget)} is more than '
                    f'{device} has ({format_size(total)}): capped to it.')
                self.budget = total
        self.limit = int(self.budget * (1 - margin))
        if device.startswith('cuda'):
            # The caching allocator refuses what passes the limit.
            self.fraction = self.limit / total
        self.trials: List[Dict] = []
        self._done: Dict[tuple, Dict] = {}
        #: (pixels of the batch, measured MB) of every trial with a peak.
        self._points: List[Tuple[float, float]] = []
        # The planner's model: MB = fixed + slope * pixels of the batch.
        self._fixed, self._slope = 0.0, None

    # ------------------------------------------------------------------
    # Trials
    # ------------------------------------------------------------------
    def trial(self, batch: int, crop: Sequence[int]) -> Dict:
        """One training step of ``batch`` images of ``crop``, measured once
        (later calls return the same result)."""
        key = (batch, tuple(crop))
        if key not in self._done:
            r = self._run_trial(
                self.config,
                self.spec,
                batch,
                tuple(crop),
                self.device,
                iters=1,
                warmup=1,
                cfg_options=self.cfg_options,
                memory_fraction=self.fraction,
                distributed=self.distributed)
            if r['fits'] and 'peak_mb' in r:
                r['fits'] = r['peak_mb'] * 2**20 <= self.limit
            if 'peak_mb' in r:
                self._points.append((batch_pixels(batch, crop), r['peak_mb']))
            self.trials.append(r)
            self._done[key] = r
            if self.log:
                peak = f" ({r['peak_mb']:.0f} MB)" if 'peak_mb' in r else ''
                self.log(f'  {self.spec} batch {batch} {crop[0]}x{crop[1]}: '
                         f"{'fits' if r['fits'] else 'does not fit'}{peak}")
        return self._done[key]

    # ------------------------------------------------------------------
    # Searches
    # ------------------------------------------------------------------
    def largest_batch(self, crop: Sequence[int]) -> int:
        """The largest batch of ``crop`` that fits (0: not even 1), at most
        ``max_batch``; a fit next to a failure (or ``max_batch``) was run.
        """
        ladder = [(b, tuple(crop)) for b in range(1, self.max_batch + 1)]
        found = self._search(ladder)
        return ladder[found][0] if found >= 0 else 0

    def largest_crop(self, batch: int,
                     crop: Sequence[int]) -> Optional[Tuple[int, int]]:
        """The largest crop of :func:`crop_ladder` (``crop``'s aspect ratio)
        that fits at ``batch``, or None when not even the smallest does."""
        ladder = [(batch, c) for c in crop_ladder(crop)]
        found = self._search(ladder)
        return ladder[found][1] if found >= 0 else None

    def predict_from_planner(self, crop: Sequence[int]) -> None:
        """Take the split planner's memory model of this case at ``crop``
        as the first guess (InfoPro configs; without it the search starts
        at the smallest candidate). Its slope (MB per pixel) also places
        candidates until two trials have measured one."""
        prediction = planner_prediction(self.config, self.spec,
                                        self.cfg_options, crop,
                                        self.device.startswith('cuda'))
        if prediction is not None:
            self._fixed, self._slope = prediction

    def _search(self, ladder: List[Tuple[int, Tuple[int, int]]]) -> int:
        """Index of the largest fitting candidate (-1: none fits) of a
        ladder whose pixels grow; fits are assumed monotone."""
        fits, fails = -1, len(ladder)
        index = self._next(ladder, fits, fails)
        while fails - fits > 1:
            if self.trial(*ladder[index])['fits']:
                fits = index
            else:
                fails = index
            if fails - fits > 1:
                index = self._next(ladder, fits, fails)
        return fits

    def _next(self, ladder, fits: int, fails: int) -> int:
        """The candidate between the bounds that the measurements (or the
        planner, before any) put at the limit."""
        pixels = [batch_pixels(b, c) for b, c in ladder]
        target = self._pixels_at_limit()
        if target is None:
            index = (fits + fails) // 2 if fits >= 0 else 0
        else:
            below = [i for i, p in enumerate(pixels) if p <= target]
            index = below[-1] if below else 0
        return min(max(index, fits + 1), fails - 1)

    def _pixels_at_limit(self) -> Optional[float]:
        """Batch pixels at which a step would use the limit: interpolated
        between the nearest trials on either side, else extrapolated from
        the nearest with the slope of two trials (or the planner's)."""
        limit = self.limit / 2**20
        points = sorted(self._points)
        below = [p for p in points if p[1] <= limit]
        above = [p for p in points if p[1] > limit]
        if below and above:
            (x0, m0), (x1, m1) = below[-1], above[0]
            return x0 + (limit - m0) * (x1 - x0) / max(m1 - m0, 1e-9)
        near = below[-2:] if below else above[:2]
        if len(near) == 2 and near[1][0] > near[0][0] and \
                near[1][1] > near[0][1]:
            slope = (near[1][1] - near[0][1]) / (near[1][0] - near[0][0])
        elif self._slope:
            slope = self._slope
        elif near:
            slope = near[0][1] / near[0][0]  # proportional: no better guess
        else:
            return None
        if not near:  # the planner's model alone
            return (limit - self._fixed) / slope
        x, m = near[-1] if below else near[0]
        return x + (limit - m) / slope
