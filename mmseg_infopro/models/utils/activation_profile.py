"""Measure the memory a piece of network needs for training: what its
forward keeps for backward, and the peak of a forward and backward."""
import weakref
from typing import Callable, Dict, Iterable

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

__all__ = [
    'saved_storages', 'storage_key', 'AllocationTracker',
    'peak_allocated_bytes'
]


def storage_key(t: torch.Tensor) -> int:
    """Identity of the memory behind ``t`` (shared by its views)."""
    return t.untyped_storage().data_ptr()


def saved_storages(fn: Callable[[], object],
                   exclude: Iterable[torch.Tensor] = ()
                   ) -> Dict[int, int]:  # yapf: disable
    """The distinct storages that autograd saves while ``fn`` runs and that
    are still saved when it returns.

    This is what stays alive from a forward pass until its backward, i.e.
    the activation memory of training. Views and tensors saved by several
    ops are one storage; a tensor whose graph ``fn`` dropped (e.g. of a
    result it discarded) is not counted, and its memory, reused by later
    tensors, cannot make two storages look like one. Keys are
    :func:`storage_key`; they identify storages only while these are alive
    (keep ``fn``'s results, whose graph holds them, to compare keys across
    calls).

    Args:
        fn (Callable): Runs a forward pass with autograd enabled; its return
            value (e.g. the loss) is held until the storages are counted.
        exclude (Iterable[Tensor]): Tensors that are alive anyway and must
            not be counted, typically the parameters (convolutions save
            their weights for backward).

    Returns:
        dict[int, int]: Bytes of every saved storage, by key.

    Example:
        >>> import torch
        >>> conv = torch.nn.Conv2d(3, 8, 3)
        >>> x = torch.rand(1, 3, 16, 16)
        >>> saved = saved_storages(lambda: conv(x), conv.parameters())
        >>> list(saved.values()) == [x.numel() * 4]  # the input
        True
    """
    saved = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        # An alias without the graph: a saved output kept as itself would
        # reference its own grad_fn, a cycle only the garbage collector
        # frees, so a dropped graph would look alive.
        kept = t.detach()
        saved.append(weakref.ref(kept))
        return kept

    with torch.enable_grad(), torch.autograd.graph.saved_tensors_hooks(
            pack, lambda t: t):
        result = fn()  # noqa: F841  (holds the graph while counting)
    skip = {storage_key(t) for t in exclude}
    storages = {}
    for ref in saved:
        t = ref()
        if t is not None and storage_key(t) not in skip:
            storages[storage_key(t)] = t.untyped_storage().nbytes()
    return storages


class AllocationTracker(TorchDispatchMode):
    """Bytes of the tensors that ops allocate while the tracker is active,
    as long as they live, and their peak (exact on the CPU).

    A storage's Python object lives exactly as long as the storage (torch
    preserves it), so a weak reference tells when its memory is freed.
    Memory allocated and released inside one kernel (workspaces) is not
    seen.

    Example:
        >>> import torch
        >>> with AllocationTracker() as tracker:
        ...     y = torch.ones(256)
        >>> tracker.live, tracker.peak
        (1024, 1024)

    Attributes:
        live (int): Bytes allocated while active and not yet freed.
        peak (int): The largest ``live`` so far; set it to ``live`` to
            start a new peak.
    """

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._sizes: Dict[int, int] = {}
        self._refs = []

    def _freed(self, key: int) -> None:
        self.live -= self._sizes.pop(key)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_leaves(out):
            if not isinstance(t, torch.Tensor):
                continue
            storage = t.untyped_storage()
            key = id(storage)
            if key in self._sizes:  # a view or an in-place result
                continue
            self._sizes[key] = storage.nbytes()
            self._refs.append(
                weakref.ref(storage, lambda _, key=key: self._freed(key)))
            self.live += self._sizes[key]
            self.peak = max(self.peak, self.live)
        return out


def peak_allocated_bytes(fn: Callable[[], object]) -> int:
    """The peak of the bytes that ``fn`` has allocated and not yet freed,
    e.g. a forward and backward pass: saved activations, gradients of
    activations and parameters, and the transient buffers between
    (:class:`AllocationTracker`).

    Example:
        >>> import torch
        >>> x = torch.rand(4, 1024, requires_grad=True)
        >>> peak = peak_allocated_bytes(lambda: (2 * x).sum().backward())
        >>> peak >= x.numel() * 4  # 2 * x (freed), then the gradient of x
        True
    """
    tracker = AllocationTracker()
    with torch.enable_grad(), tracker:
        fn()
    return tracker.peak
