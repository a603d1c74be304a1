"""The automatic split: a memory model of every local module, measured on a
small batch, and the search for the split with the smallest largest module.

A local module ``[a, b)`` peaks at one of two moments: while its head(s) run
backward (its whole graph still alive, the heads' gradients piling up), or
at the end of its own backward (its activations freed, its parameters'
gradients made; the later moment wins where gradients outweigh activations,
e.g. wide layers at small crops). In bytes at the training batch
(:class:`ModuleMemory`):

- ``inputs``: the normalised images, alive all step;
- ``activations``: what its elements save for backward, its input (the
  detached output of the previous module) and its output;
- ``heads``: the peak of the forward and backward of the head(s) trained on
  its output, on top of that: the activations they save, the gradients of
  activations in flight, of the module output and of the heads' parameters
  (a local head; for the last module the neck, decode and auxiliary heads);
- ``own_gradients``: at the end of its backward, the gradients of its
  backbone part and heads, and its input;
- ``gradients``: the parameter gradients of the earlier modules (all of the
  backbone before ``a``, and the previous module's local head);
- ``kept``: stage outputs that earlier modules made and the last module's
  heads read, kept alive (detached) until then.

Peak = ``inputs + gradients + kept + max(activations + heads,
own_gradients)``.

Every storage is counted once: a tensor saved by two neighbouring elements
(a block's output, saved by its last ReLU and by the next block's first
convolution) or read by a head as well (the module output; the stage outputs
the final heads read) is charged to one place. Saved tensors are measured by
autograd's saved-tensor hooks, the heads' peaks by following every tensor
that ops allocate until it is freed
(:func:`~mmseg_infopro.models.utils.peak_allocated_bytes`).

Not modelled: memory that kernels allocate and free inside one op
(oneDNN/cuDNN workspaces; on the CPU, dilated convolutions such as ASPP's
hold scratch buffers of up to several times their input during backward),
the transient buffers of the backbone's own backward (smaller than the
heads'), the optimizer's step (after all modules, between the modules'
peaks), and the gradients of local heads before the previous one (K > 2: a
few MB each). docs/benchmarks.md compares the model with measured peaks,
module by module: within 10 % except where a CPU workspace is large.

The split depends on nothing but the backbone and heads given (their
architecture; not their weights), ``balance_shape``, ``profile_size``,
``num_modules`` and ``tolerance``: sizes of tensors follow from shapes, and
nothing is timed or read from the machine's free memory, so the same config
gives the same split on every rank, machine and device.
"""
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional, Sequence, Set, Tuple

import torch
import torch.nn as nn
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import Tensor
from torch.utils.flop_counter import FlopCounterMode

from .activation_profile import (peak_allocated_bytes, saved_storages,
                                 storage_key)
from .split_cost import split_by_cost

__all__ = ['ModuleMemory', 'SplitPlan', 'SplitPlanner']

#: Images of the batch on which the memory is measured (then scaled).
PROFILE_BATCH = 2


@dataclass(frozen=True)
class ModuleMemory:
    """Modelled training memory of local module ``[start, stop)``, in bytes
    (see the module docstring for the terms).

    Its peak is the larger of two moments: the heads' backward
    (``activations + heads``) and the end of its own backward, when its
    activations are freed and its parameters' gradients made
    (``own_gradients``); on top of ``inputs``, ``gradients`` of earlier
    modules and ``kept`` stage outputs, alive throughout.
    """
    start: int
    stop: int
    inputs: float
    activations: float
    heads: float
    own_gradients: float
    gradients: float
    kept: float

    @property
    def total(self) -> float:
        """The module's modelled peak."""
        return self.inputs + self.gradients + self.kept + max(
            self.activations + self.heads, self.own_gradients)


@dataclass(frozen=True)
class SplitPlan:
    """A split and the modelled memory of each of its modules.

    Attributes:
        split_points (tuple[int, ...]): First element of every module after
            the first.
        modules (tuple[ModuleMemory, ...]): The modules, in order.
        balance_shape (tuple[int, int, int]): The (N, H, W) batch the memory
            is modelled for.
    """
    split_points: Tuple[int, ...]
    modules: Tuple[ModuleMemory, ...]
    balance_shape: Tuple[int, int, int]

    @property
    def peak(self) -> float:
        """The largest module's modelled memory (bytes)."""
        return max(m.total for m in self.modules)

    def rows(self) -> List[Dict[str, float]]:
        """The modules as rows in MB (for reports and JSON)."""
        terms = ('inputs', 'activations', 'heads', 'own_gradients',
                 'gradients', 'kept', 'total')
        return [
            dict(
                start=m.start,
                stop=m.stop,
                **{t: getattr(m, t) / 2**20
                   for t in terms}) for m in self.modules
        ]


def _param_bytes(params) -> int:
    return sum(p.numel() * p.element_size() for p in params)


def _total_loss(losses: dict) -> Tensor:
    return sum(
        sum(v) if isinstance(v, (list, tuple)) else v
        for k, v in losses.items() if 'loss' in k)


class SplitPlanner:
    """Chooses the split points of a backbone cut into local modules, and
    tells the modelled memory of any split.

    Everything is measured once, lazily, by forward passes of ``backbone``
    and the heads on :data:`PROFILE_BATCH` random images of
    ``profile_size`` (sizes of saved tensors are exact, whatever the
    values) and scaled to ``balance_shape``; the CPU random state is
    restored afterwards. The split depends only on the modules given, the
    shapes and ``tolerance``: never on timing, free memory or the machine
    (the same torch build gives the same split everywhere).

    Args:
        backbone (nn.Module): A backbone with the ``LocalModulesMixin``
            interface, in float32 on the CPU (e.g. a copy of the model's:
            :func:`~mmseg_infopro.models.utils.cpu_copy`), with plain BN.
        build_local_head (Callable[[int], nn.Module]): Builds the local
            head trained on element ``i``'s output (CPU, float32, plain BN,
            with a ``loss(feat, inputs, data_samples)`` method).
        final_heads_loss (Callable): ``(feats, data_samples) -> losses`` of
            the last module's neck and heads, on the backbone's
            ``out_indices`` outputs.
        final_head_params (Sequence[nn.Parameter]): The parameters of those
            heads (their gradients are alive in the last module).
        final_stages (Set[int]): Stages whose outputs the final heads read;
            earlier modules keep them alive for the last one.
        num_modules (int): K.
        balance_shape (Sequence[int]): The (N, H, W) per-GPU training batch
            the split balances.
        profile_size (Sequence[int]): (H, W) of the measured batch, a
            multiple of the backbone's output stride. Defaults to (64, 128).
        tolerance (float): How much more memory (a fraction of the most
            balanced split's largest module) a split may model if its local
            heads cost fewer FLOPs; the cheapest such split is taken.
            Defaults to 0.
    """

    def __init__(self,
                 backbone: nn.Module,
                 build_local_head: Callable[[int], nn.Module],
                 final_heads_loss: Callable[[Tuple[Tensor, ...], list], dict],
                 final_head_params: Sequence[nn.Parameter],
                 final_stages: Set[int],
                 num_modules: int,
                 balance_shape: Sequence[int],
                 profile_size: Sequence[int] = (64, 128),
                 tolerance: float = 0.0) -> None:
        if len(balance_shape) != 3 or min(balance_shape) < 1:
            raise ValueError(
                f'balance_shape must be (N, H, W), got {balance_shape!r}.')
        if len(profile_size) != 2 or min(profile_size) < 1:
            raise ValueError(
                f'profile_size must be (H, W), got {profile_size!r}.')
        if tolerance < 0:
            raise ValueError(f'tolerance must be >= 0, got {tolerance!r}.')
        self.backbone = backbone
        self.build_local_head = build_local_head
        self.final_heads_loss = final_heads_loss
        self.final_head_params = list(final_head_params)
        self.final_stages = set(final_stages)
        self.num_modules = num_modules
        self.balance_shape = tuple(int(v) for v in balance_shape)
        self.profile_size = tuple(int(v) for v in profile_size)
        self.tolerance = tolerance
        n, h, w = self.balance_shape
        self.scale = n * h * w / (PROFILE_BATCH * self.profile_size[0] *
                                  self.profile_size[1])
        self._measured = False

    # ------------------------------------------------------------------
    # The model
    # ------------------------------------------------------------------
    def plan(self,
             split_points: Optional[Sequence[int]] = None) -> SplitPlan:
        """The split with the smallest largest module (``split_points``
        None), or the modelled memory of the split given.

        Returns:
            SplitPlan: The split and its per-module memory.
        """
        self._measure()
        n = len(self._element_costs)
        if split_points is None:
            split_points = split_by_cost(
                n,
                self.num_modules,
                lambda a, b, last: self._module(a, b).total,
                head_flops=lambda i: self._local_head(i)[2],
                tolerance=self.tolerance)
        points = tuple(split_points)
        bounds = (0, ) + points + (n, )
        modules = tuple(
            self._module(a, b) for a, b in zip(bounds[:-1], bounds[1:]))
        return SplitPlan(points, modules, self.balance_shape)

    def _module(self, a: int, b: int) -> ModuleMemory:
        last = b == len(self._element_costs)
        heads, head_grads = (self._final_heads, self._final_head_grads) \
            if last else self._local_head(b - 1)[:2]
        # A module's input (the previous output) is alive while it runs (the
        # image, a = 0, is part of the inputs); its output while the head
        # trains on it, counted with the elements already when one of them
        # saves it or it is kept.
        module_input = self._boundary[a] if a > 0 else 0.0
        output = 0.0 if self._alive_in_module[b] else self._boundary[b]
        return ModuleMemory(
            start=a,
            stop=b,
            inputs=self._inputs,
            activations=self._element_prefix[b] - self._element_prefix[a] +
            module_input + output,
            heads=heads,
            own_gradients=module_input + self._grads_upto[b] -
            self._grads_upto[a] + head_grads,
            gradients=self._grads_upto[a] +
            (self._local_head(a - 1)[1] if a > 0 else 0.0),
            kept=sum(size for index, size in self._kept_stages
                     if index < a))

    # ------------------------------------------------------------------
    # Measurement
    # ------------------------------------------------------------------
    def _measure(self) -> None:
        if self._measured:
            return
        with torch.random.fork_rng(devices=[]):
            self._measure_backbone()
        self._measured = True

    def _measure_backbone(self) -> None:
        """Saved storages of every element on the profile batch (each run on
        the previous one's output, all graphs kept alive so that storage
        keys stay unique), the stage outputs, and the final heads."""
        backbone, scale = self.backbone, self.scale
        num = backbone.num_elements
        params = list(backbone.parameters()) + self.final_head_params
        gen = torch.Generator().manual_seed(0)
        self._image = torch.rand(
            PROFILE_BATCH, 3, *self.profile_size, generator=gen)
        self._samples = [
            SegDataSample(
                gt_sem_seg=PixelData(data=torch.zeros(
                    1, *self.profile_size, dtype=torch.long)))
            for _ in range(PROFILE_BATCH)
        ]
        n, h, w = self.balance_shape
        # The normalised float images (the loaded batch and the labels are
        # there before the step).
        self._inputs = float(n * 3 * h * w * 4)

        def nbytes(t: Tensor) -> float:
            return scale * t.untyped_storage().nbytes()

        # _boundary[j]: the tensor between elements j - 1 and j (0: the
        # image, num: the backbone's last output).
        self._boundary = [nbytes(self._image)]
        # (index, bytes) per stage output kept for the final heads: modules
        # that start after element `index` find it kept (a module starting
        # at the element after a stage's end gets it as its input).
        self._kept_stages: List[Tuple[int, float]] = []
        internal, saved_in, saved_out = [], [], []
        kept_boundary = [False] * (num + 1)
        self._feats, stage_outs, x = [], {}, self._image
        for i in range(num):
            x = x.detach().requires_grad_()
            result = {}

            def run(i: int = i, x: Tensor = x) -> None:
                result['out'] = backbone.forward_elements(x, i, i + 1)

            saved = saved_storages(run, params)
            out, stages = result['out']
            self._feats.append(out)  # keeps the graph, and the keys, alive
            stage_outs.update(stages)
            own = {storage_key(x), storage_key(out)}
            saved_in.append(storage_key(x) in saved)
            saved_out.append(storage_key(out) in saved)
            self._boundary.append(nbytes(out))
            extra = 0.0
            for stage, t in stages.items():
                if stage not in self.final_stages:
                    continue
                if storage_key(t) == storage_key(out):
                    kept_boundary[i + 1] = True
                    self._kept_stages.append((i + 1, nbytes(t)))
                else:  # kept from element i on, besides its output
                    own.add(storage_key(t))
                    extra += nbytes(t)
                    self._kept_stages.append((i, nbytes(t)))
            internal.append(extra + scale * sum(
                v for k, v in saved.items() if k not in own))
            x = out
        # Within a module, a boundary tensor lives as long as the graph when
        # either neighbour saves it or it is kept for the final heads.
        self._alive_in_module = [True] + [
            saved_out[j - 1] or saved_in[j] or kept_boundary[j]
            for j in range(1, num)
        ] + [False]
        self._element_costs = [
            internal[i] + (self._boundary[i + 1]
                           if self._alive_in_module[i + 1] else 0.0)
            for i in range(num)
        ]
        self._element_prefix = [0.0]
        for cost in self._element_costs:
            self._element_prefix.append(self._element_prefix[-1] + cost)
        self._grads_upto = [0]
        for i in range(num):
            self._grads_upto.append(self._grads_upto[-1] + _param_bytes(
                backbone.element_parameters(i)))
        feats = tuple(stage_outs[s].detach().requires_grad_()
                      for s in backbone.out_indices)
        self._final_heads = self._training_peak(
            lambda: self.final_heads_loss(feats, self._samples),
            self.final_head_params)
        self._final_head_grads = float(_param_bytes(self.final_head_params))
        self._head_costs: Dict[Tuple[int, int], Tuple[float, float,
                                                      float]] = {}

    def _training_peak(self, loss_fn: Callable[[], dict],
                       params: Sequence[nn.Parameter]) -> float:
        """Peak bytes of a head's forward and backward from its inputs (a
        leaf that requires grad, charged elsewhere): the activations it
        saves, the gradients of activations and of its inputs, scaled to
        the batch, and the gradients of ``params`` (not scaled)."""
        # Parameter gradients do not grow with the batch: measured without
        # them, added whole.
        flags = [p.requires_grad for p in params]
        for p in params:
            p.requires_grad_(False)
        try:
            peak = peak_allocated_bytes(
                lambda: _total_loss(loss_fn()).backward())
        finally:
            for p, flag in zip(params, flags):
                p.requires_grad_(flag)
        return self.scale * peak + _param_bytes(params)

    def _local_head(self, element: int) -> Tuple[float, float, float]:
        """(peak bytes of its training, gradient bytes, FLOPs) of the local
        head trained on ``element``'s output; measured once per (channels,
        stride)."""
        backbone = self.backbone
        key = (backbone.element_out_channels(element),
               backbone.element_out_stride(element))
        if key not in self._head_costs:
            with torch.random.fork_rng(devices=[]):
                self._head_costs[key] = self._measure_head(element)
        return self._head_costs[key]

    def _measure_head(self, element: int) -> Tuple[float, float, float]:
        head = self.build_local_head(element).train()
        params = list(head.parameters())

        def loss() -> dict:
            feat = self._feats[element].detach().requires_grad_()
            return head.loss(feat, self._image, self._samples)

        peak = self._training_peak(loss, params)
        # A separate pass: the split must not depend on the counting mode.
        with FlopCounterMode(display=False) as counter:
            _total_loss(loss()).backward()
        return peak, float(_param_bytes(params)), float(
            counter.get_total_flops())
