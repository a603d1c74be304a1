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
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, NamedTuple, Optional, Sequence

import mmcv
import mmengine
import mmseg
import torch
from mmengine.config import ConfigDict
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules

from ..models.utils import revert_sync_batchnorm, to_plain_model_cfg
from ..preflight import build_model_shapes
from ..utils import (MemoryTracker, OutputError, check_output_file,
                     load_config, names_argument, parse_cfg_options,
                     set_train_shape)
from .module_peaks import ModulePeaks

__all__ = [
    'parse_case', 'build_case_config', 'check_case_config', 'Case',
    'build_case', 'measure_case', 'run_case', 'environment'
]

RESULT_TAG = 'TRAIN_MEMORY_RESULT '


def parse_case(spec: str) -> Dict:
    """Parse a case such as ``'k4+amp+split=5,9,20'``.

    ``config`` is the config as it is (its model, split, ``with_cp`` and
    ``AmpOptimWrapper``), ``e2e`` mmseg's own EncoderDecoder with the same
    backbone and heads, ``k<N>`` InfoPro with N local modules; options of
    ``e2e`` and ``k<N>`` joined with ``+``: ``cp`` (backbone.with_cp),
    ``amp`` (fp16 autocast with loss scaling on CUDA, bf16 autocast on
    CPU), ``split=a,b`` (explicit split points, InfoPro only).

    Raises:
        ValueError: For anything else, naming the case.
    """
    parts = spec.split('+')
    case = dict(name=spec, k=None, cp=False, amp=False, split=None)
    if spec == 'config':
        return case
    if parts[0] == 'e2e':
        case['k'] = 0
    elif parts[0].startswith('k') and parts[0][1:].isdigit() and int(
            parts[0][1:]) >= 1:
        case['k'] = int(parts[0][1:])
    else:
        raise ValueError(f'case {spec!r} must be "config" or start with '
                         f'"e2e" or "k<N>".')
    for opt in parts[1:]:
        if opt in ('cp', 'amp'):
            case[opt] = True
        elif opt.startswith('split=') and case['k']:
            case['split'] = tuple(int(p) for p in opt[6:].split(','))
        else:
            raise ValueError(f'unknown option {opt!r} in case {spec!r} '
                             f'(cp, amp, split=a,b for k<N> cases).')
    return case


def build_case_config(config: str,
                      case: Dict,
                      batch: int,
                      crop: Sequence[int],
                      cfg_options: Optional[Dict] = None):
    """The config of one case: the config itself (``k`` None), InfoPro
    with K modules, or its E2E twin.

    ``batch`` images of ``crop`` are set as a config written for them
    would have them (:func:`~mmseg_infopro.utils.set_train_shape`): the
    data preprocessor pads to the crop, an automatic split is balanced for
    that batch (``model.balance_shape``).
    """
    cfg = load_config(config, cfg_options)
    if case['k'] == 0:
        plain = to_plain_model_cfg(cfg.model)
        if case['cp'] and not names_argument(plain['backbone']['type'],
                                             'with_cp'):
            # mmseg's TIMMBackbone has no with_cp; the InfoPro backbone at
            # K = 1 is the same network (forward, weights) with it.
            plain['backbone'] = dict(
                cfg.model.backbone, num_local_modules=1, split_points=None)
        cfg.model = ConfigDict(plain)
    elif case['k'] is not None:
        cfg.model.backbone.num_local_modules = case['k']
        cfg.model.backbone.split_points = case['split']
    set_train_shape(cfg, batch, crop)
    cfg.model.pretrained = None
    if case['k'] is not None and (case['cp']
                                  or 'with_cp' in cfg.model.backbone):
        if not names_argument(cfg.model.backbone.type, 'with_cp'):
            raise ValueError(
                f"case {case['name']!r}: backbone "
                f"{cfg.model.backbone.type} has no with_cp.")
        cfg.model.backbone.with_cp = case['cp']
    return cfg


def check_case_config(config: str,
                      cfg_options: Sequence[str] = (),
                      out: Optional[str] = None) -> None:
    """Check, before any case is measured in its process, that ``config``
    loads with ``cfg_options`` (``key=value`` items), that its model builds
    (on the meta device) and that the JSON ``out`` may be written.

    Raises:
        ConfigError: Naming the mistake, as ``tools/train.py`` would.
        OutputError: When ``out`` is the config or cannot be written.
    """
    build_model_shapes(load_config(config, parse_cfg_options(cfg_options)))
    if out:
        try:
            check_output_file(
                out, (config, ), overwrite=True, makes_folder=True)
        except OutputError as e:
            raise OutputError(f'--out {e}') from e


class Case(NamedTuple):
    """One case, built: its model (moved, split decided), optim wrapper and
    a batch of random images and labels (see :func:`build_case`)."""
    spec: Dict
    cfg: Any
    model: torch.nn.Module
    optim_wrapper: Any
    data: Dict
    device: torch.device


def build_case(config: str,
               spec: str,
               batch: int,
               crop: Sequence[int],
               device: str = 'cpu',
               cfg_options: Optional[Dict] = None) -> Case:
    """Build one case as the Runner would, in this process: the model
    moved to ``device`` first (its automatic split and local heads follow),
    plain BN, the optim wrapper of the config (AMP as the case says: fp16
    with loss scaling on CUDA, bf16 autocast on the CPU) and ``batch``
    random images of ``crop`` with labels of the config's classes."""
    register_all_modules(init_default_scope=True)
    case = parse_case(spec)
    dev = torch.device(device)
    cfg = build_case_config(config, case, batch, crop, cfg_options)
    torch.manual_seed(0)
    # As the Runner does: move first; the split and its heads follow.
    model = revert_sync_batchnorm(MODELS.build(cfg.model)).to(dev).train()
    if hasattr(model, 'ensure_split'):
        model.ensure_split()  # before the optimizer collects parameters
    if batch == 1:
        # One image cannot be batch-normalised after the ASPP image pooling
        # (1x1); across GPUs SyncBN can. Running statistics keep the memory.
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.eval()
    optim_cfg = dict(cfg.optim_wrapper)
    if case['k'] is None:  # the config's own choice
        case['amp'] = optim_cfg.get('type') == 'AmpOptimWrapper'
    optim_cfg['type'] = 'OptimWrapper'
    optim_cfg.pop('loss_scale', None)
    if case['amp'] and dev.type == 'cuda':
        optim_cfg.update(type='AmpOptimWrapper', loss_scale='dynamic')
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    if case['amp'] and dev.type == 'cpu':
        context = optim_wrapper.optim_context

        @contextlib.contextmanager
        def bf16_context(model):
            with context(model), torch.autocast('cpu', torch.bfloat16):
                yield

        optim_wrapper.optim_context = bf16_context
    h, w = crop
    num_classes = cfg.model.decode_head.num_classes
    gen = torch.Generator().manual_seed(0)
    data = dict(
        inputs=[
            torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8)
            for _ in range(batch)
        ],
        data_samples=[
            SegDataSample(
                gt_sem_seg=PixelData(
                    data=torch.randint(
                        0, num_classes, (1, h, w), generator=gen)),
                metainfo=dict(
                    img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
            for _ in range(batch)
        ])
    return Case(case, cfg, model, optim_wrapper, data, dev)


def measure_case(config: str,
                 spec: str,
                 batch: int,
                 crop: Sequence[int],
                 device: str = 'cpu',
                 iters: int = 3,
                 warmup: int = 1,
                 cfg_options: Optional[Dict] = None,
                 memory_fraction: Optional[float] = None) -> Dict:
    """Measure one case in this process (see :func:`run_case`)."""
    dev = torch.device(device)
    if dev.type == 'cuda' and dev.index is not None:
        torch.cuda.set_device(dev)  # the tracker reads the current device
    if memory_fraction is not None:
        torch.cuda.set_per_process_memory_fraction(memory_fraction, dev)
    case, cfg, model, optim_wrapper, data, dev = build_case(
        config, spec, batch, crop, device, cfg_options)
    plan = None
    if hasattr(model, 'split_planner'):
        plan = model.split_planner().plan(model.backbone.split_points)

    def step() -> float:
        if dev.type == 'cuda':
            torch.cuda.synchronize()
        start = time.perf_counter()
        model.train_step(data, optim_wrapper)
        if dev.type == 'cuda':
            torch.cuda.synchronize()
        return time.perf_counter() - start

    for _ in range(warmup):
        step()
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
        times=times)


def run_case(config: str,
             spec: str,
             batch: int,
             crop: Sequence[int],
             device: str = 'cpu',
             iters: int = 3,
             warmup: int = 1,
             cfg_options: Optional[List[str]] = None,
             memory_fraction: Optional[float] = None) -> Dict:
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
            memory then gives ``fits=False`` instead of an error.

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
        memory_fraction=memory_fraction)
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


def _main() -> None:
    job = json.loads(sys.argv[1])
    options = parse_cfg_options(job['cfg_options'])
    try:
        result = measure_case(job['config'], job['spec'], job['batch'],
                              job['crop'], job['device'], job['iters'],
                              job['warmup'], options, job['memory_fraction'])
    except torch.OutOfMemoryError:
        result = dict(
            case=job['spec'], batch=job['batch'], crop=job['crop'], fits=False)
    print(RESULT_TAG + json.dumps(result), flush=True)


if __name__ == '__main__':
    _main()
