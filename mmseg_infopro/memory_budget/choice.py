"""``tools/train.py --memory-budget``: the batch or crop chosen for a memory
budget and applied to everything that depends on it.

The search itself is :class:`~.search.BudgetSearch`; it runs once per run,
in the process of rank 0, before the Runner, and the other ranks take its
choice (:func:`agree_on_choice`).
"""
import datetime
import os
import os.path as osp
import tempfile
import time
from typing import Callable, Dict, Optional

import torch.distributed as torch_dist
from mmengine.config import Config
from mmengine.dist import (broadcast_object_list, get_rank, init_dist,
                           is_distributed)

from ..utils import (names_argument, set_train_shape, train_crop,
                     train_crop_transforms)
from .search import BudgetSearch, batch_pixels, parse_size

__all__ = [
    'BudgetError', 'search_choice', 'apply_choice', 'agree_on_choice',
    'describe', 'training_device'
]


class BudgetError(ValueError):
    """No batch or crop fits the budget, the config gives the search nothing
    to change, or the search failed (on every rank of a multi-process run);
    the message says what was measured and what would help."""


def training_device() -> str:
    """The device this process will train on, as mmengine picks it."""
    import torch
    if not torch.cuda.is_available():
        return 'cpu'
    local_rank = int(os.environ.get('LOCAL_RANK', 0))
    return f'cuda:{local_rank % torch.cuda.device_count()}'


def _pixels(trial: Dict) -> int:
    return batch_pixels(trial['batch'], trial['crop'])


def search_choice(cfg: Config,
                  budget: str,
                  fit: str = 'batch',
                  margin: float = 0.1,
                  device: Optional[str] = None,
                  log: Optional[Callable[[str], None]] = None,
                  max_batch: int = 32,
                  trial: Optional[Callable[..., Dict]] = None) -> Dict:
    """Search the largest batch (``fit='batch'``) or crop (``fit='crop'``,
    at the configured batch) of ``cfg`` as it will train.

    The trials train ``cfg`` itself (written to a temporary file): its
    model, split, ``with_cp``, AMP and cuDNN autotuner, with random images
    of the candidate crop; for a multi-process run (``cfg.launcher``), with
    its SyncBN and under its distributed wrapper.

    Args:
        cfg (Config): The training config.
        budget (str): The budget as given (``'24GB'``).
        fit (str): ``'batch'`` or ``'crop'``.
        margin (float): Fraction of the budget kept free.
        device (str, optional): Where to measure; defaults to
            :func:`training_device`.
        log (Callable[[str], None], optional): Told every trial.
        max_batch (int): The largest batch tried (``--max-batch``).
        trial (Callable, optional): Measures one step, as
            :class:`~.search.BudgetSearch`'s ``trial``.

    Returns:
        dict: The choice: ``batch``, ``crop``, ``peak_mb`` (its trial),
        ``next`` (the candidate above it that did not fit, or None at the
        search's upper end), the budget, margin, device, the configured
        batch and crop, ``trials`` and ``search_seconds``, ``notes``.

    Raises:
        ValueError: For a malformed budget or margin, an unknown ``fit``.
        BudgetError: When nothing fits, or the config has no crop to keep
            or change.
        RuntimeError: When a trial fails other than by running out of
            memory.
    """
    if fit not in ('batch', 'crop'):
        raise ValueError(f"--fit must be 'batch' or 'crop', got {fit!r}.")
    size = parse_size(budget)
    device = device or training_device()
    batch = int(cfg.train_dataloader.batch_size)
    crop = train_crop(cfg)
    if crop is None:
        raise BudgetError(
            '--memory-budget needs the training crop: the train pipeline '
            'has no crop_size (RandomCrop) and model.data_preprocessor has '
            'no size.')
    if fit == 'crop' and not train_crop_transforms(cfg):
        raise BudgetError(
            '--fit crop: the train pipeline has no crop_size (RandomCrop) '
            'to set; --fit batch keeps the images as they are.')
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        config = osp.join(tmp, 'config.py')
        cfg.dump(config)
        search = BudgetSearch(
            config,
            size,
            'config',
            device,
            margin=margin,
            max_batch=max_batch,
            log=log,
            trial=trial,
            distributed=cfg.get('launcher', 'none') != 'none')
        search.predict_from_planner(crop)
        if fit == 'batch':
            chosen_batch, chosen_crop = search.largest_batch(crop), crop
        else:
            chosen_batch, chosen_crop = batch, search.largest_crop(batch, crop)
    if not chosen_batch or chosen_crop is None:
        raise BudgetError(_nothing_fits(search, budget, fit, cfg))
    trials = {(t['batch'], tuple(t['crop'])): t for t in search.trials}
    chosen = trials[(chosen_batch, tuple(chosen_crop))]
    above = [
        t for t in search.trials
        if not t['fits'] and _pixels(t) > _pixels(chosen)
    ]
    nearest = min(above, key=_pixels) if above else None
    return dict(
        budget=budget,
        budget_bytes=size,
        margin=margin,
        limit_mb=search.limit / 2**20,
        fit=fit,
        device=device,
        batch=chosen_batch,
        crop=list(chosen_crop),
        peak_mb=chosen.get('peak_mb'),
        next=None if nearest is None else dict(
            batch=nearest['batch'],
            crop=nearest['crop'],
            peak_mb=nearest.get('peak_mb')),
        configured=dict(batch=batch, crop=list(crop)),
        trials=len(search.trials),
        search_seconds=round(time.perf_counter() - start, 1),
        notes=search.notes)


def _nothing_fits(search: BudgetSearch, budget: str, fit: str,
                  cfg: Config) -> str:
    """The one line for a budget that not even the smallest candidate
    fits: what was measured, and what would help."""
    smallest = min(search.trials, key=_pixels)
    what = (f"batch {smallest['batch']} at "
            f"{smallest['crop'][0]}x{smallest['crop'][1]}")
    measured = (f"{smallest['peak_mb']:.0f} MB"
                if 'peak_mb' in smallest else 'out of memory')
    backbone = cfg.model.get('backbone') or {}
    k = backbone.get('num_local_modules')
    helps = []
    if k is not None:
        helps.append(f'more local modules (model.backbone.'
                     f'num_local_modules={max(2, 2 * k)})')
    if not backbone.get('with_cp') and names_argument(
            backbone.get('type'), 'with_cp'):
        helps.append('model.backbone.with_cp=True')
    if cfg.optim_wrapper.get('type') != 'AmpOptimWrapper':
        helps.append('--amp')
    helps.append('a smaller crop' if fit ==
                 'batch' else 'a smaller batch (--fit batch)')
    return (f'--memory-budget {budget}: not even {what} fits ({measured} '
            f'measured, {search.limit / 2**20:.0f} MB allowed: the budget '
            f'less {search.margin:.0%} margin, on {search.device}). What '
            f'would help: ' + ', '.join(helps) + ', or a larger budget.')


def apply_choice(cfg: Config, choice: Dict) -> None:
    """Train the chosen batch and crop (:func:`~mmseg_infopro.utils.
    set_train_shape`: the dataloader, the pipeline's crops, the data
    preprocessor's size, InfoPro's ``balance_shape``); the choice itself
    goes to ``cfg.memory_budget``. mmengine's ``auto_scale_lr``, where the
    config enables it, scales the learning rate from the new batch."""
    set_train_shape(cfg, int(choice['batch']), tuple(choice['crop']))
    cfg.memory_budget = dict(choice)


def describe(choice: Dict) -> str:
    """One line for the log."""
    h, w = choice['crop']
    nxt = choice.get('next')
    above = (f"; {nxt['batch']} x {nxt['crop'][0]}x{nxt['crop'][1]} did "
             f"not fit" +
             (f" ({nxt['peak_mb']:.0f} MB)" if nxt.get('peak_mb') is not None
              else '') if nxt else ' (the largest tried)')
    peak = (f" ({choice['peak_mb']:.0f} MB measured)"
            if choice.get('peak_mb') is not None else '')
    return (f"--memory-budget {choice['budget']} ({choice['margin']:.0%} "
            f"kept free, {choice['device']}): batch {choice['batch']} of "
            f"{h}x{w}{peak}{above}; {choice['trials']} trial steps, "
            f"{choice['search_seconds']:.0f} s." +
            ''.join(f' Note: {note}' for note in choice.get('notes', [])))


#: How long the other ranks wait for rank 0's search: the length of any
#: search, not the 10 minutes after which NCCL's watchdog ends a collective.
AGREEMENT_TIMEOUT = datetime.timedelta(hours=24)


def agree_on_choice(choose: Callable[[], Dict], cfg: Config) -> Dict:
    """``choose()`` on rank 0 only, its choice (or its error) broadcast to
    every rank: the search runs once per run, not per rank in a fight for
    the same memory. Starts the process group the Runner would otherwise
    start, with the config's ``env_cfg.dist_cfg``.

    The other ranks wait on a gloo group of their own (a CPU object, a
    timeout of :data:`AGREEMENT_TIMEOUT`): not on NCCL, whose watchdog
    would end them in the middle of a long ``--fit crop`` ladder. Whatever
    rank 0's search raises reaches every rank.

    Raises:
        BudgetError: On every rank, with the same message, when rank 0's
            search found nothing or failed.
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none':
        return choose()
    if not is_distributed():
        init_dist(launcher, **(cfg.get('env_cfg') or {}).get('dist_cfg', {}))
    group = torch_dist.new_group(backend='gloo', timeout=AGREEMENT_TIMEOUT)
    result: list = [None]
    if get_rank() == 0:
        try:
            result = [choose()]
        except Exception as e:  # any: the others must not wait forever
            result = [
                str(e) if isinstance(e, BudgetError) else
                f'--memory-budget: the search failed on rank 0 '
                f'({type(e).__name__}: {e})'
            ]
    broadcast_object_list(result, src=0, group=group)
    torch_dist.destroy_process_group(group)
    if isinstance(result[0], str):
        raise BudgetError(result[0])
    return result[0]
