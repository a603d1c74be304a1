"""The split of an InfoPro segmentor and its local heads: what holds them,
builds them where the model lives and restores them from checkpoints.

:class:`SplitStateMixin` is the part of
:class:`~mmseg_infopro.models.segmentors.InfoProEncoderDecoder` that is not
the training order: the local-head config and its loss-weight schedule, the
automatic split (measured lazily by :meth:`~SplitStateMixin.ensure_split`
with the :class:`~mmseg_infopro.models.utils.SplitPlanner`), the heads'
placement on the model's device, dtype and SyncBN, and the checkpoint
contract (a recorded split wins over an unmeasured automatic one; weights of
another model are refused).
"""
import copy
from typing import List, Optional, Sequence, Tuple, Union

import torch.nn as nn
from mmengine.logging import print_log
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType

from ...utils import (ConfigError, balance_shape_of, misfit_weights,
                      recorded_split)
from ..utils import (SplitPlanner, check_config_keys, cpu_copy,
                     device_and_dtype, match_sync_bn, revert_sync_batchnorm,
                     sync_bn_implementation)
from .local_heads import LocalHeads

__all__ = ['SplitStateMixin']

Weight = Union[float, Sequence[float]]


def _schedule(weight: Weight, name: str, num_local: int) -> List[float]:
    """Per-module values of a (first, last) linear schedule.

    Raises:
        ValueError: For anything but a number or a pair of numbers >= 0,
            and for a pair whose values differ when there is a single
            local module (K = 2), where ``last`` would be dropped.
    """
    if isinstance(weight, (int, float)):
        first = last = float(weight)
    elif isinstance(weight, (list, tuple)) and len(weight) == 2:
        first, last = (float(w) for w in weight)
    else:
        raise ConfigError(
            f'local_head.{name} must be a number or a (first, last) pair, '
            f'got {weight!r}.')
    if first < 0 or last < 0:
        raise ConfigError(f'local_head.{name} must be >= 0, got {weight!r}.')
    if num_local == 1 and first != last:
        raise ConfigError(
            f'local_head.{name}={weight!r} is a (first, last) schedule, but '
            f'K = 2 has a single local module: give one number.')
    if num_local <= 1:
        return [first] * num_local
    return [
        first + (last - first) * i / (num_local - 1) for i in range(num_local)
    ]


class SplitStateMixin:
    """The split and the local heads of an ``EncoderDecoder`` whose backbone
    provides :class:`~mmseg_infopro.models.backbones.LocalModulesMixin`.

    The segmentor calls :meth:`_init_split_state` at the end of its
    ``__init__`` and provides ``_final_heads_loss(feats, data_samples)``
    (the last module's losses, which the split planner measures).
    """

    def _init_split_state(self, local_head: OptConfigType,
                          profile_size: Sequence[int],
                          balance_shape: Optional[Sequence[int]],
                          split_memory_tolerance: float,
                          data_preprocessor: OptConfigType) -> None:
        """Check the split settings and hold the local heads (built now for
        an explicit split, later for an automatic one); the arguments are
        the segmentor's."""
        if len(profile_size) != 2 or min(profile_size) < 1:
            raise ConfigError(
                f'profile_size must be (H, W), got {profile_size!r}.')
        if split_memory_tolerance < 0:
            raise ConfigError(f'split_memory_tolerance must be >= 0, got '
                              f'{split_memory_tolerance!r}.')
        self.local_head_cfg = copy.deepcopy(local_head)
        if self.num_local_modules > 1 and local_head is None:
            raise ConfigError(
                f'backbone.num_local_modules={self.num_local_modules} needs '
                f'a local_head config (e.g. dict(type="InfoProHead", ...)).')
        if local_head is not None:
            check_config_keys(local_head, 'model.local_head')
        for name in ('loss_recon_weight', 'loss_task_weight'):
            if name in (local_head or {}):
                _schedule(local_head[name], name, self.num_local_modules - 1)
        if balance_shape is not None and (len(balance_shape) != 3
                                          or min(balance_shape) < 1):
            raise ConfigError(
                f'balance_shape must be (N, H, W), got {balance_shape!r}.')
        self._split_search = (tuple(profile_size), balance_shape,
                              split_memory_tolerance)
        self._optimizer_checked = False
        self._final_stages = self._stages_read_by_final_heads()
        self._image_stats = self._read_image_stats(data_preprocessor)
        # Local heads built later follow SyncBN changes made since (mmengine
        # converts for cfg.sync_bn and reverts in a single process).
        self._built_sync_bn = sync_bn_implementation(self)
        # K = 1 keeps a plain empty list: its state dict is EncoderDecoder's.
        self.local_heads = LocalHeads() if self.num_local_modules > 1 \
            else nn.ModuleList()
        if self.backbone.split_points is not None:
            self._set_split(self.backbone.split_points)

    def _read_image_stats(
        self, data_preprocessor: OptConfigType
    ) -> Tuple[Optional[List[float]], Optional[List[float]]]:
        """The data preprocessor's mean and std as lists, for the local
        heads' reconstruction target.

        Read once, here, from the config when there is one: the buffers may
        later live where values cannot be read (the meta device).
        """
        stats = []
        for name in ('mean', 'std'):
            if isinstance(data_preprocessor, dict):
                value = data_preprocessor.get(name)
                stats.append(None if value is None else
                             [float(v) for v in value])
            else:
                value = getattr(self.data_preprocessor, name, None)
                stats.append(None if value is None else
                             value.flatten().tolist())
        return stats[0], stats[1]

    def _set_split(self, split_points: Sequence[int]) -> None:
        """Split the backbone at ``split_points`` and build the local heads
        for it, where the model lives now.

        The heads take the model's device and floating dtype and the SyncBN
        change the model underwent since it was built: a split measured by
        :meth:`ensure_split` or read from a checkpoint is set after the
        Runner moved the model (and maybe converted its norm layers).
        """
        self.backbone.set_split_points(split_points)
        if self.num_local_modules == 1:
            return
        device, dtype = device_and_dtype(self)
        sync_bn = sync_bn_implementation(self, exclude=self.local_heads)
        heads = [
            match_sync_bn(self._build_local_head(i, stop - 1),
                          self._built_sync_bn,
                          sync_bn).to(device=device, dtype=dtype)
            for i, (_, stop) in enumerate(self.backbone.module_ranges[:-1])
        ]
        self.local_heads.build(heads, self.backbone.split_points)

    @property
    def split_decided(self) -> bool:
        """Whether the backbone is split (explicitly, by :meth:`ensure_split`
        or by a loaded checkpoint)."""
        return self.backbone.split_points is not None

    def ensure_split(self) -> None:
        """Measure the automatic split and build the local heads, if the
        split is not decided yet.

        The automatic split (``backbone.split_points=None``) is measured
        lazily: inference and testing never run the local heads and do not
        pay for it, and a checkpoint that records its split sets it when
        loaded. Training needs it before its optimizer is built:
        ``tools/train.py`` and the ``InfoProOptimWrapperConstructor`` of the
        configs call this (``InfoProDistributedDataParallel`` too, before
        the first training step). The heads are built where the model lives
        then (see :meth:`_set_split`).
        """
        if self.split_decided:
            return
        self._set_split(self.split_planner().plan().split_points)
        print_log(
            f'InfoPro: K={self.num_local_modules}, automatic '
            f'split_points={self.backbone.split_points}',
            logger='current')

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args,
                              **kwargs) -> None:
        """A checkpoint's recorded split wins over an automatic split that
        is not measured yet: the heads are built for it before their
        weights load (children load after their parent).

        Raises:
            ValueError: If the backbone or the decode head (all but its
                classifier, which fine-tuning to other classes replaces)
                would not load: a checkpoint of another model would leave
                them randomly initialised, with only a warning.
        """
        own = {
            prefix + k: v
            for k, v in self.state_dict().items()
            if not k.startswith('decode_head.conv_seg.')
        }
        problems = misfit_weights(
            own, state_dict, (prefix + 'backbone.', prefix + 'decode_head.'))
        if problems:
            raise ConfigError(
                f'The checkpoint does not fit this model: {len(problems)} '
                f'backbone/decode head weights are missing or of another '
                f'shape, e.g. {problems[0]}. Is it a checkpoint of another '
                f'config (depth, widths)? Backbone-only weights (e.g. '
                f'ImageNet) go to model.pretrained, not load_from.')
        points = recorded_split(state_dict, prefix)
        if points is not None and not self.split_decided:
            if len(points) == self.num_local_modules - 1:
                self._set_split(points)
                print_log(
                    f'InfoPro: K={self.num_local_modules}, split_points='
                    f'{points} as recorded in the checkpoint',
                    logger='current')
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)

    @property
    def num_local_modules(self) -> int:
        """K, as configured on the backbone."""
        return self.backbone.num_local_modules

    def _build_local_head(self, module: int, element: int) -> nn.Module:
        """Local head of ``module`` (0-based), fed by ``element``'s output."""
        cfg = copy.deepcopy(self.local_head_cfg)
        num_local = self.num_local_modules - 1
        for name in ('loss_recon_weight', 'loss_task_weight'):
            if name in cfg:
                cfg[name] = _schedule(cfg[name], name, num_local)[module]
        mean, std = self._image_stats
        cfg.update(
            in_channels=self.backbone.element_out_channels(element),
            in_stride=self.backbone.element_out_stride(element),
            mean=mean,
            std=std)
        return MODELS.build(cfg)

    def _stages_read_by_final_heads(self) -> set:
        """Backbone stages whose outputs the neck or heads of module K
        read (every output stage when there is a neck)."""
        out_indices = self.backbone.out_indices
        if self.with_neck:
            return set(out_indices)
        heads = [self.decode_head]
        if self.with_auxiliary_head:
            aux = self.auxiliary_head
            heads += list(aux) if isinstance(aux, nn.ModuleList) else [aux]
        stages = set()
        for head in heads:
            index = head.in_index
            for i in index if isinstance(index, (list, tuple)) else [index]:
                stages.add(out_indices[i])
            if getattr(head, 'c1_bottleneck', None) is not None:
                # DeepLabV3+'s head also reads inputs[0] (the low-level
                # features), outside its in_index.
                stages.add(out_indices[0])
        return stages

    def split_planner(self,
                      balance_shape: Optional[Sequence[int]] = None
                      ) -> SplitPlanner:  # yapf: disable
        """The planner of this model's automatic split, on a CPU float32
        copy of it (wherever the model lives), with plain BN; for another
        per-GPU batch (N, H, W) than ``balance_shape`` when given (the
        memory of other batches, as ``--memory-budget`` predicts it).

        ``split_planner().plan()`` is the automatic split and its modelled
        memory per module; ``plan(points)`` models any split. Sizes of saved
        tensors depend only on shapes, so the split is the same on every
        rank and machine (and under AMP, where all activations shrink
        alike); the copy takes no memory from the GPU that training needs
        and changes no BN statistics of the model; a model on the meta
        device (no data) can be planned too.
        """
        profile_size, configured, tolerance = self._split_search
        balance_shape = balance_shape_of(
            balance_shape or configured,
            getattr(self.data_preprocessor, 'size', None), profile_size)
        # SyncBN would try to synchronise the probe's CPU tensors as soon as
        # a process group exists (multi-GPU training builds models after
        # starting it); plain BN measures the same activations.
        probe = revert_sync_batchnorm(cpu_copy(self)).train()
        heads = [
            p for name, p in probe.named_parameters()
            if not name.startswith(('backbone.', 'local_heads.'))
        ]
        return SplitPlanner(
            backbone=probe.backbone,
            build_local_head=lambda element: revert_sync_batchnorm(
                probe._build_local_head(0, element)),
            final_heads_loss=probe._final_heads_loss,
            final_head_params=heads,
            final_stages=self._final_stages,
            num_modules=self.num_local_modules,
            balance_shape=balance_shape,
            profile_size=profile_size,
            tolerance=tolerance)
