"""Measure the activation memory a piece of network keeps for backward."""
from typing import Callable, Iterable

import torch

__all__ = ['saved_activation_bytes']


def saved_activation_bytes(fn: Callable[[], object],
                           exclude: Iterable[torch.Tensor] = ()
                           ) -> int:  # yapf: disable
    """Bytes of the distinct tensors that autograd saves while ``fn`` runs.

    This is what stays alive from a forward pass until its backward, i.e.
    the activation memory of training. Views and tensors saved by several
    ops are counted once (by storage).

    Args:
        fn (Callable): Runs a forward pass with autograd enabled.
        exclude (Iterable[Tensor]): Tensors that are alive anyway and must
            not be counted, typically the parameters (convolutions save
            their weights for backward).

    Returns:
        int: The number of bytes.

    Example:
        >>> import torch
        >>> conv = torch.nn.Conv2d(3, 8, 3)
        >>> x = torch.rand(1, 3, 16, 16)
        >>> saved_activation_bytes(lambda: conv(x)) >= x.numel() * 4
        True
    """
    storages = {}
    skip = {t.untyped_storage().data_ptr() for t in exclude}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in skip:
            storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(
            pack, lambda t: t):
        fn()
    return sum(storages.values())
