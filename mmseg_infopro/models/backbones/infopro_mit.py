"""SegFormer's Mix Transformer (MiT) cut into local modules.

Elements: every stage's patch embedding, followed by the stage's
transformer blocks (``layers.{i}.embed``, ``layers.{i}.0``, ...); the stage's
final norm runs with its last block. Between elements a feature map travels
as NCHW at the stage's stride, so a local head after any block reads the
block's tokens as a feature map; inside a module the tokens stay tokens.
"""
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import torch.nn as nn
from mmseg.models.backbones import MixVisionTransformer
from mmseg.models.utils import nchw_to_nlc, nlc_to_nchw
from mmseg.registry import MODELS
from torch import Tensor

from .local_modules import LocalModulesMixin

__all__ = ['InfoProMixVisionTransformer']


@MODELS.register_module()
class InfoProMixVisionTransformer(LocalModulesMixin, MixVisionTransformer):
    """mmseg's :class:`MixVisionTransformer` (SegFormer's MiT) cut into K
    local modules.

    Same arguments, parameters, state-dict keys and ``forward`` as the
    mmseg class, so the ImageNet-pretrained MiT weights load unchanged and
    trained weights load back into it.

    Args:
        num_local_modules (int): K, the number of local modules (K >= 1).
            Defaults to 2.
        split_points (Sequence[int], optional): Index, in the element
            sequence ``[embed 1, block 1.1, ..., embed 2, ...]``, of the first
            element of each module after the first. None lets the segmentor
            choose a memory-balanced split. Defaults to None.
        **kwargs: The arguments of :class:`MixVisionTransformer`.

    Example:
        >>> from mmseg_infopro.models import InfoProMixVisionTransformer
        >>> net = InfoProMixVisionTransformer(
        ...     embed_dims=32, num_layers=[2, 2, 2, 2], split_points=(6,))
        >>> net.elements[5:7]
        [('layers.1.1', 1), ('layers.2.embed', 2)]
    """

    def __init__(self,
                 num_local_modules: int = 2,
                 split_points: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._init_local_modules(num_local_modules, split_points)

    def _element_names(self) -> List[Tuple[str, int]]:
        names = []
        for stage, num_blocks in enumerate(self.num_layers):
            names.append((f'layers.{stage}.embed', stage))
            names += [(f'layers.{stage}.{b}', stage)
                      for b in range(num_blocks)]
        return names

    def _where(self, index: int) -> Tuple[int, Optional[int]]:
        """(stage, block) of element ``index``; block None for the patch
        embedding."""
        name, stage = self.elements[index]
        block = name.rsplit('.', 1)[1]
        return stage, None if block == 'embed' else int(block)

    def element_out_channels(self, index: int) -> int:
        """Number of channels that element ``index`` outputs."""
        return self.embed_dims * self.num_heads[self.elements[index][1]]

    def element_out_stride(self, index: int) -> int:
        """Output stride (w.r.t. the input image) of element ``index``."""
        stride = 1
        for s in range(self.elements[index][1] + 1):
            stride *= self.strides[s]
        return stride

    def element_parameters(self, index: int) -> Iterator[nn.Parameter]:
        """Parameters of element ``index`` (a stage's last block owns the
        stage's norm)."""
        stage, block = self._where(index)
        embed, blocks, norm = self.layers[stage]
        if block is None:
            return embed.parameters()
        modules = [blocks[block]]
        if block == len(blocks) - 1:
            modules.append(norm)
        return (p for m in modules for p in m.parameters())

    def forward_elements(self, x: Tensor, start: int,
                         stop: int) -> Tuple[Tensor, Dict[int, Tensor]]:
        """Run elements ``start .. stop - 1`` as MiT's ``forward`` runs
        them, keeping tokens between the elements of one stage; see
        :meth:`LocalModulesMixin.forward_elements`."""
        stage_outs = {}
        tokens, hw_shape = None, None
        for index in range(start, stop):
            stage, block = self._where(index)
            embed, blocks, norm = self.layers[stage]
            if block is None:
                tokens, hw_shape = embed(x)
                continue
            if tokens is None:
                hw_shape = x.shape[2:]
                tokens = nchw_to_nlc(x)
            tokens = blocks[block](tokens, hw_shape)
            if block == len(blocks) - 1:
                x = nlc_to_nchw(norm(tokens), hw_shape)
                tokens = None
                if stage in self.out_indices:
                    stage_outs[stage] = x
        if tokens is not None:
            x = nlc_to_nchw(tokens, hw_shape)
        return x, stage_outs
