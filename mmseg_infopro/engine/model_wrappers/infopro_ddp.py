"""Data-parallel training for module-wise (InfoPro) models.

torch's DistributedDataParallel reduces gradients inside each backward, which
assumes one backward per forward; InfoPro runs one backward per local module.
This wrapper lets every module's backward run locally and all-reduces the
accumulated gradients of all modules exactly once per optimizer step, in a few
flat buckets. It also works on CPU hosts (gloo), where mmengine's default
wrapper fails because it passes ``device_ids``.
"""
import logging
from typing import Dict, List, Optional, Union

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper
from mmseg.registry import MODEL_WRAPPERS
from torch import Tensor
from torch._utils import _flatten_dense_tensors, _unflatten_dense_tensors

from ...models.utils import revert_sync_batchnorm

__all__ = ['InfoProDistributedDataParallel']


@MODEL_WRAPPERS.register_module()
class InfoProDistributedDataParallel(nn.Module):
    """Distributed data parallelism for ``InfoProEncoderDecoder`` (and any
    mmengine model).

    ``train_step`` runs the model's forward and backward passes (module by
    module for models with ``forward_backward``, else the usual single
    loss), then, when the optim wrapper is about to step, averages every
    gradient over the processes in one all-reduce per bucket and steps.
    A parameter that no rank gave a gradient keeps ``grad=None``, so the
    optimizer skips it (no weight decay or momentum) as in one process.
    Parameters start equal (broadcast from rank 0 here and by the runner
    after weight init), so they stay equal. Set it in a config with
    ``model_wrapper_cfg = dict(type='mmseg.InfoProDistributedDataParallel')``;
    the runner uses it when ``--launcher`` is not ``none``.

    The wrapper measures no split: mmengine wraps the model for testing too,
    where a checkpoint sets the split when it loads. Local heads built after
    start-up (an automatic split measured when the optimizer is built or at
    the first step) are broadcast from rank 0, and every rank's split is
    compared with rank 0's, before the first training step uses them.

    On CPU, SyncBN layers (mmseg's Cityscapes configs) are turned into
    plain BN with a warning: torch's SyncBN needs GPU tensors. Local heads
    built later follow (the model matches its SyncBN changes).

    Args:
        module (nn.Module): The model to train.
        broadcast_buffers (bool): Copy rank 0's buffers (e.g. BN running
            statistics) to all ranks before every iteration. mmengine's
            default wrapper does not. Defaults to False.
        bucket_size_mb (float): Size of the flat buckets that are reduced
            together. Defaults to 25.
    """

    def __init__(self,
                 module: nn.Module,
                 broadcast_buffers: bool = False,
                 bucket_size_mb: float = 25) -> None:
        super().__init__()
        if not (dist.is_available() and dist.is_initialized()):
            raise RuntimeError(
                'InfoProDistributedDataParallel needs an initialised process '
                'group: launch with torchrun and --launcher pytorch.')
        if bucket_size_mb <= 0:
            raise ValueError(
                f'bucket_size_mb must be > 0, got {bucket_size_mb}.')
        params = list(module.parameters())
        if params and params[0].device.type == 'cpu' and any(
                isinstance(m, nn.SyncBatchNorm) for m in module.modules()):
            print_log(
                'SyncBN needs GPU tensors: using per-process BN on CPU.',
                logger='current',
                level=logging.WARNING)
            module = revert_sync_batchnorm(module)
        self.module = module
        self.broadcast_buffers = broadcast_buffers
        self.bucket_bytes = int(bucket_size_mb * 2**20)
        self._synced_split = self._split_points()
        self._check_same_split()
        # Parameters and buffers only: they live on the model's device.
        # Other state-dict entries (e.g. the local heads' split, made fresh
        # on the CPU by get_extra_state) are not shared tensors, and NCCL
        # refuses CPU tensors.
        self._broadcast(self.module.parameters())
        self._broadcast(self.module.buffers())

    def _split_points(self) -> Optional[tuple]:
        """The model's split (None: undecided or not an InfoPro model)."""
        return getattr(
            getattr(self.module, 'backbone', None), 'split_points', None)

    def _sync_local_heads(self) -> None:
        """Before a training step: decide the split if needed and, for heads
        built since start-up, check the split and share rank 0's heads."""
        if hasattr(self.module, 'ensure_split'):
            self.module.ensure_split()
        points = self._split_points()
        if points == self._synced_split:
            return
        self._check_same_split()
        self._broadcast(self.module.local_heads.parameters())
        self._broadcast(self.module.local_heads.buffers())
        self._synced_split = points

    @staticmethod
    def _broadcast(tensors) -> None:
        for t in tensors:
            dist.broadcast(t.detach(), src=0)

    def _check_same_split(self) -> None:
        """Stop every rank if any rank split the backbone differently.

        An automatic split is measured on each rank when training starts;
        it depends only on the model and shapes, but a rank that differs
        (e.g. another config) would train other modules with other local
        heads and wreck the gradient average, so compare it with rank 0's.
        (Broadcast and all-reduce, on the parameters' device: the
        collectives that both NCCL and gloo support on CUDA tensors.)
        """
        points = self._split_points()
        if not points:
            return
        device = next(self.module.parameters()).device
        mine = torch.tensor(points, dtype=torch.long, device=device)
        rank0 = mine.clone()
        dist.broadcast(rank0, src=0)
        differs = (rank0 != mine).any().long().view(1)
        dist.all_reduce(differs, op=dist.ReduceOp.MAX)
        if differs.item():
            raise RuntimeError(
                f'The ranks split the backbone differently (rank '
                f'{dist.get_rank()}: split_points={tuple(points)}, rank 0: '
                f'{tuple(rank0.tolist())}). Set it in the config for all '
                f'ranks, e.g. --cfg-options '
                f'"model.backbone.split_points={tuple(rank0.tolist())}".')

    def _buckets(self, tensors: List[Tensor]) -> List[List[Tensor]]:
        """Group tensors of one dtype/device into buckets of bounded size."""
        groups: Dict[tuple, List[List[Tensor]]] = {}
        for t in tensors:
            buckets = groups.setdefault((t.dtype, t.device), [[]])
            size = sum(x.numel() * x.element_size() for x in buckets[-1])
            if buckets[-1] and size + t.numel() * t.element_size() > \
                    self.bucket_bytes:
                buckets.append([])
            buckets[-1].append(t)
        return [b for buckets in groups.values() for b in buckets]

    def all_reduce_gradients(self) -> None:
        """Average the gradients of all trainable parameters over ranks.

        Parameters that some rank gave a gradient are reduced on every rank
        (zeros where it gave none); parameters that no rank gave one keep
        ``grad=None``, as in a single process.
        """
        params = [p for p in self.module.parameters() if p.requires_grad]
        if not params:
            return
        has_grad = torch.tensor([p.grad is not None for p in params],
                                dtype=torch.int32,
                                device=params[0].device)
        # Every rank must reduce the same tensors in the same order: the
        # union of the ranks' gradients, agreed on first.
        dist.all_reduce(has_grad, op=dist.ReduceOp.MAX)
        grads = []
        for p, used in zip(params, has_grad.tolist()):
            if used:
                if p.grad is None:
                    p.grad = torch.zeros_like(p)
                grads.append(p.grad)
        world_size = dist.get_world_size()
        for bucket in self._buckets(grads):
            flat = _flatten_dense_tensors(bucket)
            dist.all_reduce(flat)
            flat /= world_size
            for grad, synced in zip(bucket,
                                    _unflatten_dense_tensors(flat, bucket)):
                grad.copy_(synced)

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, Tensor]:
        """Forward/backward locally, all-reduce once, one optimizer step."""
        self._sync_local_heads()
        if self.broadcast_buffers:
            self._broadcast(self.module.buffers())
        module = self.module
        if hasattr(module, 'forward_backward'):
            log_vars = module.forward_backward(data, optim_wrapper)
        else:
            with optim_wrapper.optim_context(module):
                data = module.data_preprocessor(data, True)
                losses = module._run_forward(data, mode='loss')
            loss, log_vars = module.parse_losses(losses)
            optim_wrapper.backward(optim_wrapper.scale_loss(loss))
        if optim_wrapper.should_update():
            self.all_reduce_gradients()
            optim_wrapper.step()
            optim_wrapper.zero_grad()
        return log_vars

    def val_step(self, data: Union[dict, tuple, list]) -> list:
        return self.module.val_step(data)

    def test_step(self, data: Union[dict, tuple, list]) -> list:
        return self.module.test_step(data)
