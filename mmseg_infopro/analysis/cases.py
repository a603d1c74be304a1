"""The cases of the memory and speed measurements: E2E or InfoPro with K
modules, with or without activation checkpointing and mixed precision, of a
config, built as the Runner would build them (:func:`build_case`)."""
import contextlib
from typing import Any, Dict, NamedTuple, Optional, Sequence

import torch
import torch.distributed as dist
from mmengine.config import ConfigDict
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData
from mmseg.registry import MODEL_WRAPPERS, MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules

from ..models.utils import (convert_sync_batchnorm, revert_sync_batchnorm,
                            to_plain_model_cfg)
from ..preflight import build_model_shapes
from ..utils import (OutputError, check_output_file, load_config,
                     names_argument, parse_cfg_options, set_train_shape)

__all__ = [
    'parse_case', 'build_case_config', 'check_case_config', 'Case',
    'build_case'
]


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
    """One case, built: its model (moved, split decided), optim wrapper, a
    batch of random images and labels (see :func:`build_case`) and what a
    training step runs: the model, or its distributed wrapper."""
    spec: Dict
    cfg: Any
    model: torch.nn.Module
    optim_wrapper: Any
    data: Dict
    device: torch.device
    trained: torch.nn.Module


def _wrapped(model: torch.nn.Module, cfg, device: torch.device):
    """The model as a multi-process training wraps it (mmengine's Runner
    with ``tools/train.py``'s choice of wrapper): the config's
    ``sync_bn``, then ``model_wrapper_cfg``, else the InfoPro wrapper for
    InfoPro models and on CPU hosts, else mmengine's DDP."""
    if cfg.get('sync_bn'):
        model = convert_sync_batchnorm(model, cfg.sync_bn)
    wrapper = cfg.get('model_wrapper_cfg')
    if wrapper is None and (hasattr(model, 'module_loss')
                            or device.type == 'cpu'):
        wrapper = dict(type='mmseg.InfoProDistributedDataParallel')
    if wrapper is not None:
        return MODEL_WRAPPERS.build(wrapper, default_args=dict(module=model))
    return MMDistributedDataParallel(
        module=model,
        device_ids=[device.index],
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False))


def build_case(config: str,
               spec: str,
               batch: int,
               crop: Sequence[int],
               device: str = 'cpu',
               cfg_options: Optional[Dict] = None,
               distributed: bool = False) -> Case:
    """Build one case as the Runner would, in this process: cuDNN's
    autotuner as the config's ``env_cfg`` sets it, the model moved to
    ``device`` first (its automatic split and local heads follow), the
    optim wrapper of the config (AMP as the case says: fp16 with loss
    scaling on CUDA, bf16 autocast on the CPU) and ``batch`` random images
    of ``crop`` with labels of the config's classes.

    In one process SyncBN becomes BN, as the Runner makes it. With
    ``distributed`` (a multi-process training's step), the model keeps its
    SyncBN (``sync_bn`` too) and is wrapped as that training wraps it, in a
    one-rank gloo process group started here: the wrapper's gradient
    buckets are in the step's memory. (With one rank SyncBN computes as BN;
    NCCL's buffers, outside PyTorch's allocator, are not in the figures.)
    """
    register_all_modules(init_default_scope=True)
    case = parse_case(spec)
    dev = torch.device(device)
    cfg = build_case_config(config, case, batch, crop, cfg_options)
    # Other algorithms, other workspaces: as the Runner sets it.
    torch.backends.cudnn.benchmark = bool(
        (cfg.get('env_cfg') or {}).get('cudnn_benchmark', False))
    torch.manual_seed(0)
    # As the Runner does: move first; the split and its heads follow.
    model = MODELS.build(cfg.model)
    if not distributed:
        model = revert_sync_batchnorm(model)
    model = model.to(dev).train()
    trained = model
    if distributed:
        if not dist.is_initialized():
            dist.init_process_group(
                'gloo', store=dist.HashStore(), rank=0, world_size=1)
        trained = _wrapped(model, cfg, dev)
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
    return Case(case, cfg, model, optim_wrapper, data, dev, trained)
