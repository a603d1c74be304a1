"""Where a model lives: its device and dtype, a CPU copy of it, and its
SyncBN flavour — so that what is built after construction lands there too.

mmengine's Runner moves the model (``wrap_model`` → ``model.to(device)``)
and converts or reverts its SyncBN layers before anything of this package
builds the local heads of an automatic split; a module built then must take
the model's device, dtype and norm layers instead of the CPU float32 BN
defaults of ``MODELS.build``.

The SyncBN conversion itself is mmengine's, but for timm's norm + activation
layers (``BatchNormAct2d``, the norm of every EfficientNet block): mmengine
would rebuild them as plain ``SyncBatchNorm`` and drop their activation
without a word, so they become timm's ``SyncBatchNormAct`` and back.
"""
import copy
import itertools
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import convert_sync_batchnorm as mmengine_convert
from mmengine.model import revert_sync_batchnorm as mmengine_revert
from torch.nn.modules.batchnorm import _BatchNorm

from ...utils import ConfigError

try:  # timm is needed by the timm backbones only
    from timm.layers import BatchNormAct2d, SyncBatchNormAct
except ImportError:  # pragma: no cover
    BatchNormAct2d = SyncBatchNormAct = None

__all__ = [
    'device_and_dtype', 'cpu_copy', 'sync_bn_implementation',
    'match_sync_bn', 'convert_sync_batchnorm', 'revert_sync_batchnorm'
]


def device_and_dtype(module: nn.Module) -> Tuple[torch.device, torch.dtype]:
    """Device and floating dtype of ``module``'s first floating parameter
    (else buffer); the CPU and float32 for a module without any.

    Example:
        >>> conv = torch.nn.Conv2d(1, 1, 1).double()
        >>> device_and_dtype(conv)
        (device(type='cpu'), torch.float64)
    """
    for t in itertools.chain(module.parameters(), module.buffers()):
        if t.is_floating_point():
            return t.device, t.dtype
    return torch.device('cpu'), torch.float32


def cpu_copy(module: nn.Module,
             dtype: torch.dtype = torch.float32) -> nn.Module:
    """A deep copy of ``module`` on the CPU, its floating tensors in
    ``dtype``.

    Tensors are copied to the CPU one at a time, so a model on a GPU is never
    duplicated in GPU memory. Tensors on the meta device have no data and
    become zeros of their shape. The copy shares no storage with ``module``:
    running it (e.g. updating BN statistics) leaves ``module`` unchanged.

    Args:
        module (nn.Module): The model, on any device and in any dtype.
        dtype (torch.dtype): Dtype of the copy's floating tensors. Defaults
            to float32.

    Returns:
        nn.Module: The copy.
    """
    memo = {}
    for t in itertools.chain(module.parameters(), module.buffers()):
        if id(t) in memo:
            continue
        target = dtype if t.is_floating_point() else t.dtype
        if t.device.type == 'meta':
            data = torch.zeros(t.shape, dtype=target)
        else:
            data = t.detach().to('cpu', target, copy=True)
        memo[id(t)] = nn.Parameter(data, t.requires_grad) if isinstance(
            t, nn.Parameter) else data
    return copy.deepcopy(module, memo)


def _moved_norm(source: nn.Module, target: nn.Module) -> nn.Module:
    """``target`` with ``source``'s weights, statistics (the same tensors),
    mode and, for norm + activation layers, activation and dropout."""
    if source.affine:
        target.weight, target.bias = source.weight, source.bias
    for name in ('running_mean', 'running_var', 'num_batches_tracked'):
        setattr(target, name, getattr(source, name))
    for name in ('act', 'drop'):
        if hasattr(source, name):
            setattr(target, name, getattr(source, name))
    if hasattr(source, 'qconfig'):
        target.qconfig = source.qconfig
    target.train(source.training)
    return target


def convert_sync_batchnorm(module: nn.Module,
                           implementation: str = 'torch') -> nn.Module:
    """mmengine's ``convert_sync_batchnorm`` (BN layers to ``'torch'`` or
    ``'mmcv'`` SyncBN) that keeps norm + activation layers: timm's
    ``BatchNormAct2d`` becomes timm's ``SyncBatchNormAct``, its activation
    and dropout kept.

    Raises:
        ConfigError: For ``'mmcv'`` on a model with ``BatchNormAct2d``
            layers (mmcv has no SyncBN with an activation).
    """
    if isinstance(module, nn.SyncBatchNorm) or _is_sync_bn(module):
        return module  # converted already (mmengine's would again)
    if BatchNormAct2d is not None and isinstance(module, BatchNormAct2d):
        if implementation != 'torch':
            raise ConfigError(
                f"sync_bn={implementation!r} cannot keep the activation of "
                f"timm's BatchNormAct2d layers (EfficientNet blocks): use "
                f"sync_bn='torch'.")
        return _moved_norm(
            module,
            SyncBatchNormAct(module.num_features, module.eps,
                             module.momentum, module.affine,
                             module.track_running_stats))
    if isinstance(module, _BatchNorm):
        return mmengine_convert(module, implementation)
    for name, child in module.named_children():
        module.add_module(name, convert_sync_batchnorm(child, implementation))
    return module


def revert_sync_batchnorm(module: nn.Module) -> nn.Module:
    """mmengine's ``revert_sync_batchnorm`` (SyncBN layers to BN, in one
    process or on a CPU) that turns timm's ``SyncBatchNormAct`` back into a
    ``BatchNormAct2d`` with its activation, instead of a plain BN."""
    if SyncBatchNormAct is not None and isinstance(module, SyncBatchNormAct):
        return _moved_norm(
            module,
            BatchNormAct2d(
                module.num_features,
                module.eps,
                module.momentum,
                module.affine,
                module.track_running_stats,
                apply_act=False))
    if _is_sync_bn(module):
        return mmengine_revert(module)
    for name, child in module.named_children():
        module.add_module(name, revert_sync_batchnorm(child))
    return module


def _is_sync_bn(module: nn.Module) -> Optional[str]:
    if isinstance(module, nn.SyncBatchNorm):
        return 'torch'
    # mmcv's SyncBN is not a torch _BatchNorm; recognise it by class, so
    # that this needs no mmcv.ops import.
    cls = type(module)
    if cls.__name__ == 'SyncBatchNorm' and cls.__module__.startswith('mmcv'):
        return 'mmcv'
    return None


def sync_bn_implementation(module: nn.Module,
                           exclude: Optional[nn.Module] = None
                           ) -> Optional[str]:  # yapf: disable
    """Which SyncBN ``module`` holds: ``'torch'``, ``'mmcv'`` or None.

    Args:
        module (nn.Module): The model.
        exclude (nn.Module, optional): A submodule whose layers are not
            looked at (e.g. heads built later than the rest).
    """
    skip = set(map(id, exclude.modules())) if exclude is not None else set()
    for m in module.modules():
        if id(m) not in skip:
            kind = _is_sync_bn(m)
            if kind is not None:
                return kind
    return None


def match_sync_bn(module: nn.Module, built: Optional[str],
                  now: Optional[str]) -> nn.Module:
    """Give a module built from the config the SyncBN change that the
    model it joins underwent after construction.

    mmengine's Runner converts BN to SyncBN for ``cfg.sync_bn`` and reverts
    SyncBN to BN in a single process; a module built afterwards from the
    model's config would otherwise keep the configured layers.

    Args:
        module (nn.Module): The new module.
        built (str | None): The model's SyncBN when it was built.
        now (str | None): The model's SyncBN now.

    Returns:
        nn.Module: ``module`` (or its replacement, for a bare norm layer).
    """
    if now == built:
        return module
    if now is None:
        return revert_sync_batchnorm(module)
    return convert_sync_batchnorm(module, now)
