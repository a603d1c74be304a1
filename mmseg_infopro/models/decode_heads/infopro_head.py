"""InfoProHead: the local loss of one local module."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType, SampleList, add_prefix
from torch import Tensor

from ...utils import ConfigError
from .reconstruction_decoder import ReconstructionDecoder

__all__ = ['InfoProHead']

#: The paper's task head phi_i: 3x3 conv to 512, BN, ReLU, Dropout2d(0.1),
#: 1x1 classifier.
DEFAULT_TASK_HEAD = dict(
    type='FCNHead',
    channels=512,
    num_convs=1,
    kernel_size=3,
    concat_input=False,
    dropout_ratio=0.1)

#: The official local task loss, ``nn.CrossEntropyLoss(ignore_index=255)``:
#: a mean over the labelled pixels only. mmseg's default (a mean over all
#: pixels) would scale lambda2 by the labelled fraction of each crop.
DEFAULT_TASK_LOSS = dict(
    type='CrossEntropyLoss', use_sigmoid=False, avg_non_ignore=True)


@MODELS.register_module()
class InfoProHead(BaseModule):
    """Local InfoPro loss of a module output h_i (Wang et al., ICLR 2021).

    ``L = loss_recon_weight * BCE(w(h), x01)
    + loss_task_weight * CE(phi(h), y)``

    where ``w`` is a :class:`ReconstructionDecoder` that rebuilds the input
    crop, mapped back to [0, 1] with the data preprocessor's mean/std, and
    ``phi`` is a segmentation head (by default mmseg's ``FCNHead`` with one
    3×3 conv to 512 channels, BN, ReLU, Dropout2d(0.1), 1×1 classifier),
    whose logits are up-sampled to the label size and trained with
    cross-entropy averaged over the labelled pixels (``ignore_index``
    excluded), as the official code's ``nn.CrossEntropyLoss(ignore_index=
    255)`` does. A branch whose weight is 0 is not built, so
    ``loss_recon_weight=0`` is greedy supervised learning (the ablation
    baseline) and ``loss_task_weight=0`` reconstruction only.

    :class:`~mmseg_infopro.models.segmentors.InfoProEncoderDecoder` builds one
    head per local module from a single ``local_head`` config and fills in
    ``in_channels``, ``in_stride``, ``mean``, ``std`` and the per-module loss
    weights; a config normally sets only the rest.

    Args:
        in_channels (int): Channels of h_i.
        in_stride (int): Output stride of h_i (power of two).
        num_classes (int): Number of classes of the task head.
        loss_recon_weight (float): λ1, weight of the reconstruction term.
            Defaults to 1.0.
        loss_task_weight (float): λ2, weight of the task term (the loss
            weight of the task head's ``loss_decode``). Defaults to 1.0.
        task_head (dict, optional): Keys that update the task head config
            :data:`DEFAULT_TASK_HEAD` (``FCNHead`` with ``channels=512,
            num_convs=1, kernel_size=3, concat_input=False,
            dropout_ratio=0.1``), e.g. ``dict(channels=128)``; any mmseg
            decode head works. ``in_channels``, ``num_classes``,
            ``norm_cfg``, ``align_corners`` and ``ignore_index`` come from
            here. Without a ``loss_decode`` key the loss is
            :data:`DEFAULT_TASK_LOSS` (cross-entropy, mean over labelled
            pixels). The head is initialised as mmseg initialises it
            (FCNHead: ``conv_seg`` from Normal(0, 0.01)); the official code
            kept PyTorch's defaults, which ``dict(init_cfg=None)`` restores.
            Defaults to None (the default head).
        recon_channels (Sequence[int]): Widths of the reconstruction
            decoder's stages. Defaults to (128, 32, 12).
        mean (Sequence[float], optional): Per-channel mean that the data
            preprocessor subtracted (pixel scale 0-255). None means the
            inputs were not normalised (mean 0, std 1). Defaults to None.
        std (Sequence[float], optional): Per-channel std that the data
            preprocessor divided by. Defaults to None.
        norm_cfg (dict, optional): Norm layers of both branches. Defaults to
            ``dict(type='BN')``.
        align_corners (bool): ``align_corners`` of every resize. Defaults to
            False.
        ignore_index (int): Label ignored by the task loss. Defaults to 255.
        init_cfg (dict, optional): Initialisation config of the whole head
            (both branches), applied before the task head's own. Defaults
            to None.
    """

    def __init__(self,
                 in_channels: int,
                 in_stride: int,
                 num_classes: int,
                 loss_recon_weight: float = 1.0,
                 loss_task_weight: float = 1.0,
                 task_head: OptConfigType = None,
                 recon_channels: Sequence[int] = (128, 32, 12),
                 mean: Optional[Sequence[float]] = None,
                 std: Optional[Sequence[float]] = None,
                 norm_cfg: OptConfigType = dict(type='BN'),
                 align_corners: bool = False,
                 ignore_index: int = 255,
                 init_cfg: OptConfigType = None) -> None:
        super().__init__(init_cfg)
        if loss_recon_weight < 0 or loss_task_weight < 0:
            raise ConfigError('InfoProHead loss weights must be >= 0, got '
                              f'loss_recon_weight={loss_recon_weight}, '
                              f'loss_task_weight={loss_task_weight}.')
        if loss_recon_weight == 0 and loss_task_weight == 0:
            raise ConfigError(
                'InfoProHead has loss_recon_weight=0 and loss_task_weight=0: '
                'its module would never be trained. Set at least one > 0.')
        self.loss_recon_weight = float(loss_recon_weight)
        self.loss_task_weight = float(loss_task_weight)
        self.align_corners = align_corners
        self.task_head = None
        if loss_task_weight > 0:
            cfg = dict(DEFAULT_TASK_HEAD, **(task_head or {}))
            cfg.update(
                in_channels=in_channels,
                num_classes=num_classes,
                norm_cfg=norm_cfg,
                align_corners=align_corners,
                ignore_index=ignore_index)
            loss_decode = dict(cfg.get('loss_decode', DEFAULT_TASK_LOSS))
            loss_decode['loss_weight'] = self.loss_task_weight
            cfg['loss_decode'] = loss_decode
            self.task_head = MODELS.build(cfg)
        self.recon_head = None
        if loss_recon_weight > 0:
            self.recon_head = ReconstructionDecoder(
                in_channels,
                in_stride,
                channels=recon_channels,
                norm_cfg=norm_cfg,
                align_corners=align_corners)
        mean = [0.0] * 3 if mean is None else list(mean)
        std = [1.0] * 3 if std is None else list(std)
        # Not persistent: the statistics belong to the data preprocessor, and
        # keeping them out of the state dict keeps checkpoints free of
        # duplicated, possibly stale values.
        self.register_buffer(
            'mean', torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer(
            'std', torch.tensor(std).view(1, -1, 1, 1), persistent=False)

    def reconstruction_target(self, inputs: Tensor) -> Tensor:
        """Map the normalised input batch back to [0, 1]."""
        return ((inputs * self.std + self.mean) / 255.0).clamp_(0.0, 1.0)

    def loss(self, feat: Tensor, inputs: Tensor,
             data_samples: SampleList) -> dict:
        """Local loss of module output ``feat``.

        Args:
            feat (Tensor): h_i, shape (N, C, H/s, W/s).
            inputs (Tensor): The normalised input batch, shape (N, 3, H, W).
            data_samples (list[SegDataSample]): Samples with ``gt_sem_seg``.

        Returns:
            dict[str, Tensor]: ``task.loss_ce`` and ``task.acc_seg`` (if the
            task branch exists) and ``loss_recon`` (if the decoder exists),
            already weighted.
        """
        losses = dict()
        if self.task_head is not None:
            losses.update(
                add_prefix(
                    self.task_head.loss([feat], data_samples, None), 'task'))
        if self.recon_head is not None:
            logits = self.recon_head(feat, out_size=inputs.shape[2:])
            # float16 logits (autocast) are compared in float32; a float64
            # model keeps float64.
            dtype = torch.promote_types(logits.dtype, torch.float32)
            with torch.no_grad():
                target = self.reconstruction_target(inputs.to(dtype))
            losses['loss_recon'] = self.loss_recon_weight * \
                F.binary_cross_entropy_with_logits(
                    logits.to(dtype), target.to(dtype))
        return losses
