"""InfoProEncoderDecoder: module-wise (locally supervised) training.

Training order of one iteration (``train_step``)::

    x = inputs
    for module i in 1..K:
        h_i, stage outputs = backbone module i (x)
        loss_i = local head i (h_i)          for i < K
                 decode head + aux head       for i = K
        backward(loss_i)                      # frees module i's graph
        x = h_i.detach()                      # no gradient crosses modules
    optimizer step (all modules at once)

Inference is :class:`mmseg.models.EncoderDecoder`'s own: the backbone's
plain forward and the decode head; the local heads never run.
"""
from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from mmengine.optim import OptimWrapper
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import (ConfigType, OptConfigType, OptMultiConfig, SampleList,
                         add_prefix)
from torch import Tensor

from ...utils import DEFAULT_PROFILE_SIZE, ConfigError
from .split_state import SplitStateMixin

__all__ = ['InfoProEncoderDecoder']


@MODELS.register_module()
class InfoProEncoderDecoder(SplitStateMixin, EncoderDecoder):
    """EncoderDecoder trained module by module with InfoPro local losses.

    The backbone (e.g. ``InfoProResNetV1c``, docs/models.md) is split into
    K local modules.
    Modules 1..K-1 each train one ``local_head`` (an ``InfoProHead``) on
    their output; module K trains the decode head and the auxiliary head(s)
    exactly as :class:`EncoderDecoder` does. Each module runs forward on the
    detached output of the previous one, and its backward runs right away
    through the optim wrapper (so AMP loss scaling and gradient accumulation
    work), which frees its graph: training memory is that of the largest
    module. One optimizer step per iteration updates all modules. With
    K = 1 this is exactly :class:`EncoderDecoder` (same losses, gradients
    and state dict).

    Stage outputs that a head of module K needs but an earlier module
    produced (e.g. the auxiliary head's layer3 output when layer3 ends in
    module K-1) reach the heads detached.

    An automatic split (``backbone.split_points=None``) is measured only
    when training needs it (:meth:`ensure_split`); until then there are no
    local heads, so inference never pays for it, and loading a checkpoint
    sets the split it recorded. The split and its local heads (planning,
    placement, checkpoints) are :class:`SplitStateMixin`'s
    (``split_state.py``); this class is the training order.

    Args:
        backbone (dict): Backbone config; it must provide the interface of
            :class:`~mmseg_infopro.models.backbones.LocalModulesMixin`
            (e.g. ``InfoProResNetV1c``, ``InfoProMixVisionTransformer``).
        decode_head (dict): Decode head config (trained in module K).
        local_head (dict, optional): Config of the local heads, used for
            every module but the last. ``in_channels``, ``in_stride``,
            ``mean`` and ``std`` are filled in here (from the backbone and
            the data preprocessor). ``loss_recon_weight`` (λ1) and
            ``loss_task_weight`` (λ2) may each be a number or a
            ``(first, last)`` pair that is interpolated linearly from the
            first to the last local module. Required when K > 1.
        neck (dict, optional): Neck config (runs in module K).
        auxiliary_head (dict | list[dict], optional): Auxiliary head(s)
            (trained in module K).
        train_cfg (dict, optional): Training config.
        test_cfg (dict, optional): Testing config (``mode='whole'|'slide'``).
        data_preprocessor (dict, optional): ``SegDataPreProcessor`` config;
            its mean/std de-normalise the reconstruction target.
        pretrained (str, optional): Backbone checkpoint (as in mmseg).
        profile_size (Sequence[int]): (H, W) of the random batch on which
            the memory of every block and head is measured to choose a
            balanced split when ``backbone.split_points`` is None (see
            ``balance_shape`` and :meth:`split_planner`). Activation sizes
            scale with the pixel count, so a small size that is a multiple
            of the output stride suffices. Defaults to (64, 128).
        balance_shape (Sequence[int], optional): (N, H, W), the per-GPU
            training batch for which the automatic split balances memory:
            activations scale with it while gradients do not. None means
            2 images of ``data_preprocessor.size`` (or of ``profile_size``).
            Defaults to None.
        split_memory_tolerance (float): For the automatic split: how much
            more memory (as a fraction of the most balanced split's largest
            module) a split may need if its local heads cost fewer FLOPs
            (forward + backward, measured). The cheapest such split is
            taken, e.g. one whose task heads read 1024-channel layer3
            features instead of a 2048-channel layer4 block, which costs
            twice the compute. The memory model leaves out kernel
            workspaces, so a 10 % tolerance can cost more than 10 % of real
            peak memory. Defaults to 0: the most balanced split.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 local_head: OptConfigType = None,
                 neck: OptConfigType = None,
                 auxiliary_head: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 pretrained: Optional[str] = None,
                 profile_size: Sequence[int] = DEFAULT_PROFILE_SIZE,
                 balance_shape: Optional[Sequence[int]] = None,
                 split_memory_tolerance: float = 0.0,
                 init_cfg: OptMultiConfig = None) -> None:
        super().__init__(
            backbone=backbone,
            decode_head=decode_head,
            neck=neck,
            auxiliary_head=auxiliary_head,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            pretrained=pretrained,
            init_cfg=init_cfg)
        if not hasattr(self.backbone, 'forward_local_module'):
            raise ConfigError(
                f'InfoProEncoderDecoder needs a backbone that can run module '
                f'by module (e.g. InfoProResNetV1c), got '
                f'{type(self.backbone).__name__}.')
        self._init_split_state(local_head, profile_size, balance_shape,
                               split_memory_tolerance,
                               data_preprocessor)

    # ------------------------------------------------------------------
    # Module-wise losses
    # ------------------------------------------------------------------
    def _final_heads_loss(self, feats: Tuple[Tensor, ...],
                          data_samples: SampleList) -> dict:
        """Neck, decode head and auxiliary head losses (module K)."""
        if self.with_neck:
            feats = self.neck(feats)
        losses = self._decode_head_forward_train(feats, data_samples)
        if self.with_auxiliary_head:
            losses.update(
                self._auxiliary_head_forward_train(feats, data_samples))
        return losses

    def module_loss(self, module: int, x: Tensor, inputs: Tensor,
                    data_samples: SampleList,
                    stage_outs: Dict[int, Tensor]) -> Tuple[dict, Tensor]:
        """Forward local module ``module`` (0-based) and compute its loss.

        Args:
            module (int): Index of the local module.
            x (Tensor): Its input: the images for module 0, else the
                detached output of the previous module.
            inputs (Tensor): The normalised images (reconstruction target).
            data_samples (list[SegDataSample]): Samples with ``gt_sem_seg``.
            stage_outs (dict[int, Tensor]): Detached stage outputs of the
                earlier modules; this module's are added, detached, in place.

        Returns:
            tuple[dict, Tensor]: The module's losses (keys prefixed
            ``local{i}.`` for local modules, mmseg's ``decode.``/``aux.``
            for the last) and its output, not yet detached.
        """
        out, outs = self.backbone.forward_local_module(module, x)
        if module < self.num_local_modules - 1:
            stage_outs.update({
                s: t.detach()
                for s, t in outs.items() if s in self._final_stages
            })
            losses = self.local_heads[module].loss(out, inputs, data_samples)
            return add_prefix(losses, f'local{module + 1}'), out
        # Stages no head reads are None: they are not kept alive meanwhile.
        feats = tuple(
            outs.get(s, stage_outs.get(s)) for s in self.backbone.out_indices)
        return self._final_heads_loss(feats, data_samples), out

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """All module losses in one pass, gradients isolated per module.

        Back-propagating the sum gives the same gradients as
        :meth:`train_step`, but keeps every module's graph alive at once;
        :meth:`train_step` is the memory-saving path used for training.
        """
        self.ensure_split()
        losses, stage_outs, x = dict(), dict(), inputs
        for module in range(self.num_local_modules):
            module_losses, x = self.module_loss(module, x, inputs,
                                                data_samples, stage_outs)
            losses.update(module_losses)
            x = x.detach()
        return losses

    def _check_local_heads_are_optimized(self,
                                         optim_wrapper: OptimWrapper) -> None:
        """Stop if the optimizer was built before the local heads were (an
        automatic split measured at the first step): they would never be
        updated."""
        optimized = {
            id(p)
            for group in optim_wrapper.optimizer.param_groups
            for p in group['params']
        }
        missing = [
            name for name, p in self.local_heads.named_parameters()
            if p.requires_grad and id(p) not in optimized
        ]
        if missing:
            raise RuntimeError(
                f'The optimizer does not hold the local heads\' parameters '
                f'(e.g. local_heads.{missing[0]}): it was built before the '
                f'automatic split was measured. Call model.ensure_split() '
                f'before building the optimizer, use optim_wrapper='
                f'dict(constructor="InfoProOptimWrapperConstructor") (as '
                f'the shipped configs do) or tools/train.py, or set '
                f'model.backbone.split_points.')
        self._optimizer_checked = True

    def backward_module(self, loss: Tensor, optim_wrapper: OptimWrapper,
                        last: bool) -> None:
        """Back-propagate one module's loss through ``optim_wrapper``.

        The seam for model wrappers: loss scaling for gradient accumulation
        and AMP is the wrapper's, and the iteration counts once towards
        accumulation however many modules there are.
        """
        count = optim_wrapper._inner_count
        optim_wrapper.backward(optim_wrapper.scale_loss(loss))
        if not last:
            # OptimWrapper counts every backward as one iteration; K local
            # backwards are still a single iteration.
            optim_wrapper._inner_count = count

    def forward_backward(self, data: Union[dict, tuple, list],
                         optim_wrapper: OptimWrapper) -> Dict[str, Tensor]:
        """Forward and backward of every module, no optimizer step.

        The gradients of all modules are accumulated in ``.grad``; a model
        wrapper can reduce them across processes before the step (see
        :class:`~mmseg_infopro.engine.InfoProDistributedDataParallel`).

        Args:
            data (dict | tuple | list): A batch from the dataloader.
            optim_wrapper (OptimWrapper): Scales and runs the backwards.

        Returns:
            dict[str, Tensor]: Detached log variables: every module's loss
            terms, ``loss`` (their sum) and, on CUDA, ``m{i}.memory``: the
            MB allocated when module i's forward and loss are done (its
            graph complete), the per-module counterpart of mmengine's
            ``memory``.
        """
        if not self._optimizer_checked:
            self.ensure_split()
            self._check_local_heads_are_optimized(optim_wrapper)
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
        inputs, data_samples = data['inputs'], data['data_samples']
        log_vars: Dict[str, Tensor] = OrderedDict()
        total = inputs.new_zeros(())
        stage_outs: Dict[int, Tensor] = {}
        x = inputs
        for module in range(self.num_local_modules):
            last = module == self.num_local_modules - 1
            with optim_wrapper.optim_context(self):
                losses, x = self.module_loss(module, x, inputs, data_samples,
                                             stage_outs)
            if inputs.is_cuda:
                # Allocated with the module's whole graph alive: its share of
                # the training memory, next to mmengine's overall `memory`.
                log_vars[f'm{module + 1}.memory'] = inputs.new_tensor(
                    torch.cuda.memory_allocated(inputs.device) / 2**20)
            loss, module_vars = self.parse_losses(losses)
            self.backward_module(loss, optim_wrapper, last)
            x = x.detach()
            total += loss.detach()
            module_vars.pop('loss')
            log_vars.update((k, v.detach()) for k, v in module_vars.items())
            del losses, loss
        log_vars['loss'] = total
        log_vars.move_to_end('loss', last=False)
        return log_vars

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, Tensor]:
        """One module-wise training iteration (see the module docstring):
        :meth:`forward_backward`, then one optimizer step for all modules
        (unless gradients are being accumulated).

        Args:
            data (dict | tuple | list): A batch from the dataloader.
            optim_wrapper (OptimWrapper): Updates all parameters.

        Returns:
            dict[str, Tensor]: The log variables of :meth:`forward_backward`.
        """
        log_vars = self.forward_backward(data, optim_wrapper)
        if optim_wrapper.should_update():
            optim_wrapper.step()
            optim_wrapper.zero_grad()
        return log_vars
