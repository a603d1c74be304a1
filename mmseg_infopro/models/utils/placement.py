"""Where a model lives: its device and dtype, a CPU copy of it, and its
SyncBN flavour — so that what is built after construction lands there too.

mmengine's Runner moves the model (``wrap_model`` → ``model.to(device)``)
and converts or reverts its SyncBN layers before anything of this package
builds the local heads of an automatic split; a module built then must take
the model's device, dtype and norm layers instead of the CPU float32 BN
defaults of ``MODELS.build``.
"""
import copy
import itertools
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.model import convert_sync_batchnorm, revert_sync_batchnorm

__all__ = [
    'device_and_dtype', 'cpu_copy', 'sync_bn_implementation',
    'match_sync_bn'
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
