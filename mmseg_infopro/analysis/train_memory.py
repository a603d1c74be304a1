"""Measure the peak memory and speed of real training steps.

The engine behind ``tools/analysis/benchmark_memory.py`` and
``tools/analysis/fit.py``: a *case* (E2E or InfoPro with K modules, with or
without gradient checkpointing and mixed precision) runs ``train_step`` on
random images and labels, in a fresh process so that no case inherits another
one's allocations.

Memory (:class:`~mmseg_infopro.utils.MemoryTracker`), over the timed
iterations: on CUDA ``peak_mb`` is the peak of what the caching allocator
reserved (``max_memory_reserved``: what a memory budget caps, so what decides
whether a step fits) and ``peak_allocated_mb`` that of what tensors took
(``max_memory_allocated``: weights, gradients, optimizer state,
activations); on CPU both are the growth of the peak resident set (VmHWM,
reset first) over the resident set before the timed iterations, with
``MALLOC_MMAP_THRESHOLD_=131072`` set for the process so that freed
activations leave the resident set.
"""
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Sequence

import mmcv
import mmengine
import mmseg
import torch

from ..utils import MemoryTracker, parse_cfg_options
from .cases import build_case, parse_case
from .module_peaks import ModulePeaks

__all__ = [
    'measure_case', 'run_case', 'environment', 'is_out_of_memory',
    'OUT_OF_MEMORY_MESSAGES'
]

RESULT_TAG = 'TRAIN_MEMORY_RESULT '
#: How running out of GPU memory shows besides ``torch.OutOfMemoryError``:
#: cuDNN and cuBLAS report a workspace they could not allocate as a
#: ``RuntimeError``, and cuDNN one for which no algorithm's workspace fits
#: as no valid algorithm.
OUT_OF_MEMORY_MESSAGES = ('CUDA out of memory', 'CUDNN_STATUS_ALLOC_FAILED',
                          'Unable to find a valid cuDNN algorithm',
                          'CUBLAS_STATUS_ALLOC_FAILED', 'CUFFT_ALLOC_FAILED')
#: Untimed steps beyond ``warmup`` while AMP's loss scaler skips the
#: optimizer step (at most; the scale halves each time).
MAX_SKIPPED_STEPS = 8


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is the device running out of memory (a trial that
    does not fit), whichever library noticed it."""
    if isinstance(error, torch.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and any(
        message in str(error) for message in OUT_OF_MEMORY_MESSAGES)


def _pinned(device: str) -> torch.device:
    """``device`` with its index, made the current CUDA device: what
    ``set_per_process_memory_fraction`` takes (it refuses ``cuda`` without
    one) and what the tracker reads."""
    dev = torch.device(device)
    if dev.type == 'cuda':
        if dev.index is None:
            dev = torch.device('cuda', torch.cuda.current_device())
        torch.cuda.set_device(dev)
    return dev


def _warm_up(step: Callable[[], float], optim_wrapper, steps: int) -> int:
    """``steps`` untimed steps, and more while AMP's loss scaler skipped the
    last one's optimizer step (an overflow at a first, large scale): until
    the optimizer has stepped, its state (SGD's momentum, ...) does not
    exist, and a measured peak would miss it. Returns the steps run."""
    scaler = getattr(optim_wrapper, 'loss_scaler', None)
    run, skipped = 0, False
    while run < steps or (skipped and run < steps + MAX_SKIPPED_STEPS):
        before = scaler.get_scale() if scaler is not None else None
        step()
        run += 1
        skipped = scaler is not None and scaler.get_scale() < before
    return run


def measure_case(config: str,
                 spec: str,
                 batch: int,
                 crop: Sequence[int],
                 device: str = 'cpu',
                 iters: int = 3,
                 warmup: int = 1,
                 cfg_options: Optional[Dict] = None,
                 memory_fraction: Optional[float] = None,
                 distributed: bool = False) -> Dict:
    """Measure one case in this process (see :func:`run_case`)."""
    dev = _pinned(device)
    if memory_fraction is not None:
        torch.cuda.set_per_process_memory_fraction(memory_fraction, dev)
    case, cfg, model, optim_wrapper, data, dev, trained = build_case(
        config, spec, batch, crop, str(dev), cfg_options, distributed)
    plan = None
    if hasattr(model, 'split_planner'):
        plan = model.split_planner().plan(model.backbone.split_points)

    def step() -> float:
        if dev.type == 'cuda':
            torch.cuda.synchronize()
        start = time.perf_counter()
        trained.train_step(data, optim_wrapper)
        if dev.type == 'cuda':
            torch.cuda.synchronize()
        return time.perf_counter() - start

    warmed = _warm_up(step, optim_wrapper, warmup)
    tracker = MemoryTracker(dev)
    modules = ModulePeaks(model, tracker) if hasattr(
        model, 'module_loss') else None
    tracker.reset_peak()
    # CPU: growth over the resident set between steps (weights, optimizer
    # state); CUDA: everything allocated.
    base = tracker.current() if dev.type == 'cpu' else 0
    times = []
    for _ in range(iters):
        if modules:
            modules.start_step()
        times.append(step())
        if modules:
            modules.end_step()
    if modules:
        peak, allocated = (max(p[i] for step in modules.segments for p in step)
                           for i in (0, 1))
        # Per module: the median over the timed steps of its peak growth
        # (tensors, which the planner models) over what was in use before
        # the step.
        step_base = base if dev.type == 'cpu' else tracker.current()
        module_peaks = [
            statistics.median(step[i][1] for step in modules.segments) -
            step_base for i in range(len(modules.segments[0]) - 1)
        ]
    else:
        peak, allocated = tracker.peaks()
        module_peaks = []
    peak, allocated = peak - base, allocated - base
    return dict(
        case=case['name'],
        k=case['k'],
        split_points=list(getattr(model.backbone, 'split_points', None) or []),
        with_cp=bool(cfg.model.backbone.get('with_cp', False)),
        amp=case['amp'],
        batch=batch,
        crop=list(crop),
        fits=True,
        peak_mb=peak / 2**20,
        peak_allocated_mb=allocated / 2**20,
        module_peaks_mb=[p / 2**20 for p in module_peaks],
        # The split planner's model of the same modules (MB).
        modules_modelled=plan.rows() if plan else [],
        sec_per_iter=statistics.median(times),
        times=times,
        warmup_steps=warmed,
        distributed=distributed)


def run_case(config: str,
             spec: str,
             batch: int,
             crop: Sequence[int],
             device: str = 'cpu',
             iters: int = 3,
             warmup: int = 1,
             cfg_options: Optional[List[str]] = None,
             memory_fraction: Optional[float] = None,
             distributed: bool = False) -> Dict:
    """Measure one case in a fresh process.

    Args:
        config (str): The InfoPro config.
        spec (str): The case (see :func:`parse_case`).
        batch (int): Images per step.
        crop (Sequence[int]): (H, W) of the images.
        device (str): 'cpu' or 'cuda'.
        iters (int): Timed iterations (the median time is reported).
        warmup (int): Untimed iterations first.
        cfg_options (list[str], optional): ``key=value`` config overrides.
        memory_fraction (float, optional): CUDA only: cap the process with
            ``torch.cuda.set_per_process_memory_fraction``; running out of
            memory (:func:`is_out_of_memory`) then gives ``fits=False``
            instead of an error.
        distributed (bool): Measure the step of a multi-process training:
            SyncBN kept and the model wrapped as that training wraps it
            (in a one-rank gloo group; see :func:`build_case`).

    Returns:
        dict: ``case, k, split_points, with_cp, amp, batch, crop, fits,
        peak_mb, peak_allocated_mb, module_peaks_mb, modules_modelled,
        sec_per_iter, times`` (the peaks: see the module docstring):
        for InfoPro, ``module_peaks_mb`` are the measured peaks of the local
        modules (growth over the memory before the step, medians of the
        timed steps) and ``modules_modelled`` the split planner's terms for
        them (``SplitPlan.rows``).

    Raises:
        RuntimeError: When the case fails other than by running out of
            memory, with the end of its output.
    """
    parse_case(spec)
    job = dict(
        config=config,
        spec=spec,
        batch=batch,
        crop=list(crop),
        device=device,
        iters=iters,
        warmup=warmup,
        cfg_options=cfg_options or [],
        memory_fraction=memory_fraction,
        distributed=distributed)
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='131072')
    proc = subprocess.run([sys.executable, '-m', __name__,
                           json.dumps(job)],
                          env=env,
                          capture_output=True,
                          text=True)
    lines = [
        ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)
    ]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f'case {spec!r} (batch {batch}, crop {crop}) '
                           f'failed with exit {proc.returncode}:\n'
                           f'{proc.stdout[-2000:]}{proc.stderr[-3000:]}')
    return json.loads(lines[-1][len(RESULT_TAG):])


def environment(device: str) -> Dict:
    """Versions and machine, to record next to measurements."""
    env = dict(
        python=platform.python_version(),
        torch=torch.__version__,
        mmcv=mmcv.__version__,
        mmengine=mmengine.__version__,
        mmseg=mmseg.__version__,
        machine=platform.machine(),
        cpus=os.cpu_count())
    if device == 'cuda':
        env.update(gpu=torch.cuda.get_device_name(0), cuda=torch.version.cuda)
    return env


def run_job(job: Dict) -> Dict:
    """The result of one :func:`run_case` job, in this process: a case that
    runs out of memory (:func:`is_out_of_memory`) does not fit; any other
    error is raised."""
    options = parse_cfg_options(job['cfg_options'])
    try:
        return measure_case(job['config'], job['spec'], job['batch'],
                            job['crop'], job['device'], job['iters'],
                            job['warmup'], options, job['memory_fraction'],
                            job.get('distributed', False))
    except Exception as e:
        if not is_out_of_memory(e):
            raise
        return dict(
            case=job['spec'],
            batch=job['batch'],
            crop=job['crop'],
            fits=False,
            out_of_memory=f'{type(e).__name__}: {str(e)[:200]}')


def _main() -> None:
    result = run_job(json.loads(sys.argv[1]))
    print(RESULT_TAG + json.dumps(result), flush=True)


if __name__ == '__main__':
    _main()
