"""The small decoder w_i that rebuilds the input image from h_i."""
import math
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.utils import resize
from mmseg.utils import OptConfigType
from torch import Tensor

from ...utils import ConfigError

__all__ = ['ReconstructionDecoder']


class ReconstructionDecoder(nn.Module):
    """Decoder from stride-``in_stride`` features to a 3-channel image.

    Conv-Norm-ReLU stages (1×1 for the first, 3×3 after), each followed by a
    bilinear ×2 up-sampling while the feature map is still below the input
    resolution, then a 3×3 conv to 3 channels. The output is a logit map
    (the sigmoid is folded into the loss, which is numerically safer and
    autocast-safe). With the default widths and ``in_stride=8`` this is the
    decoder of the InfoPro paper: C→128, ×2, 128→32, ×2, 32→12, ×2, 12→3.

    Args:
        in_channels (int): Channels of the module output h_i.
        in_stride (int): Output stride of h_i; a power of two. It fixes the
            number of ×2 up-sampling steps (log2 of the stride).
        channels (Sequence[int]): Widths of the Conv-Norm-ReLU stages.
            When there are more ×2 steps than stages, the last stage
            up-samples by the remaining factor. Defaults to (128, 32, 12).
        norm_cfg (dict, optional): Norm layer config of the stages.
            Defaults to ``dict(type='BN')``.
        align_corners (bool): ``align_corners`` of the up-sampling.
            Defaults to False.
    """

    def __init__(self,
                 in_channels: int,
                 in_stride: int,
                 channels: Sequence[int] = (128, 32, 12),
                 norm_cfg: OptConfigType = dict(type='BN'),
                 align_corners: bool = False) -> None:
        super().__init__()
        if in_stride < 1 or in_stride & (in_stride - 1):
            raise ConfigError(
                f'in_stride must be a power of two, got {in_stride}.')
        if not channels:
            raise ConfigError('channels must name at least one stage width.')
        num_ups = int(math.log2(in_stride))
        self.align_corners = align_corners
        self.stages = nn.ModuleList()
        self.scales = []
        for i, width in enumerate(channels):
            self.stages.append(
                ConvModule(
                    in_channels if i == 0 else channels[i - 1],
                    width,
                    1 if i == 0 else 3,
                    padding=0 if i == 0 else 1,
                    norm_cfg=norm_cfg))
            last = i == len(channels) - 1
            steps = max(num_ups - i, 0) if last else int(i < num_ups)
            self.scales.append(2**steps)
        self.conv_out = nn.Conv2d(channels[-1], 3, 3, padding=1)

    def forward(self,
                x: Tensor,
                out_size: Optional[Sequence[int]] = None) -> Tensor:
        """Decode ``x`` into image logits, resized to ``out_size`` if given
        (for inputs whose size is not a multiple of the stride)."""
        if x.device.type == 'cpu':
            # The same arithmetic in channels-last order: oneDNN runs these
            # few-channel convolutions at full resolution (12 -> 3) and
            # their up-sampling about twice as fast (docs/benchmarks.md).
            x = x.contiguous(memory_format=torch.channels_last)
        for stage, scale in zip(self.stages, self.scales):
            x = stage(x)
            if scale > 1:
                x = F.interpolate(
                    x,
                    scale_factor=scale,
                    mode='bilinear',
                    align_corners=self.align_corners)
        x = self.conv_out(x)
        if out_size is not None and tuple(x.shape[2:]) != tuple(out_size):
            x = resize(
                x,
                size=tuple(out_size),
                mode='bilinear',
                align_corners=self.align_corners)
        return x
