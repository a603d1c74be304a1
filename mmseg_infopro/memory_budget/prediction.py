"""The split planner's memory model of a training step, as the first guess
of the memory-budget search (:class:`~.search.BudgetSearch`)."""
from typing import Optional, Sequence, Tuple

from mmseg.registry import MODELS

from ..analysis import build_case_config, parse_case
from ..utils import parse_cfg_options

__all__ = ['planner_prediction']

#: The batches whose modelled peaks give the slope.
SLOPE_BATCHES = (4, 8)


def planner_prediction(config: str,
                       spec: str,
                       cfg_options: Sequence[str],
                       crop: Sequence[int],
                       cuda: bool = False
                       ) -> Optional[Tuple[float, float]]:  # yapf: disable
    """Modelled peak memory of a training step as ``fixed + slope x``, with
    ``x`` the pixels of the batch (``batch x H x W``), in MB.

    The planner's model (activations, local and final heads, gradients; see
    :mod:`~mmseg_infopro.models.utils.split_planner`) of the case's split
    (an automatic one as balanced for the larger batch) at the two batches
    of :data:`SLOPE_BATCHES` of ``crop``. E2E is modelled as K = 1, the plain
    model in InfoPro's segmentor. On CUDA the weights and one optimizer
    state per weight are added (on the CPU they are part of the resident set
    that the measured growth starts from).

    Returns:
        tuple[float, float] | None: ``(fixed, slope)``; None for a config
        that is not InfoPro's (no planner).
    """
    case = parse_case(spec)
    if case['k'] == 0:
        case = dict(case, k=1)
    cfg = build_case_config(config, case, 1, crop,
                            parse_cfg_options(cfg_options))
    if 'num_local_modules' not in cfg.model.backbone:
        return None
    model = MODELS.build(cfg.model)
    h, w = crop
    # One split for both batches, so that the difference is the batch's
    # alone; batches large enough that activations, not gradients, make
    # the peak, as where budgets are tight.
    small, large = SLOPE_BATCHES
    at_large = model.split_planner(
        (large, h, w)).plan(model.backbone.split_points)
    at_small = model.split_planner((small, h, w)).plan(at_large.split_points)
    slope = (at_large.peak - at_small.peak) / 2**20 / ((large - small) * h * w)
    fixed = at_small.peak / 2**20 - slope * small * h * w
    if cuda:
        fixed += 2 * sum(p.numel() * p.element_size()
                         for p in model.parameters()) / 2**20
    return fixed, slope
