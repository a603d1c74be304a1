"""timm's EfficientNet family cut into local modules: every model timm's
EfficientNet builder makes (EfficientNet, EfficientNet-Lite, the ``tf_``
ports, MobileNetV2, MobileNetV3, MNASNet, MixNet, FBNet, ...).

Elements: the stem (``conv_stem``, ``bn1`` and, in MobileNetV3, ``act1``) is
element 0, followed by every block in order (``blocks.0.0``,
``blocks.1.0``, ...). A *stage* is one of timm's feature levels (an entry of
``feature_info``: stride 2, 4, 8, 16, 32); a level may hold several of
timm's block stacks (EfficientNet's 80- and 112-channel stacks both run at
stride 16), and its output is that of its last block, as timm's
``features_only`` model returns it.
"""
from typing import Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmseg.models.backbones import TIMMBackbone
from mmseg.registry import MODELS
from torch import Tensor

from ...utils import ConfigError
from .local_modules import LocalModulesMixin

__all__ = ['InfoProTIMMBackbone']


@MODELS.register_module()
class InfoProTIMMBackbone(LocalModulesMixin, TIMMBackbone):
    """mmseg's :class:`TIMMBackbone` over a model of timm's EfficientNet
    builder, cut into K local modules.

    Same arguments, parameters, state-dict keys (``timm_model.*``) and
    ``forward`` as the mmseg class, so weights move both ways between them
    and ``tools/model_converters/infopro2mmseg.py`` exports to plain
    ``TIMMBackbone``.

    Args:
        model_name (str): A timm model of the EfficientNet builder, e.g.
            ``'tf_efficientnet_lite0'``, ``'efficientnet_b0'``,
            ``'mobilenetv2_100'``, ``'mobilenetv3_large_100'``.
        num_local_modules (int): K, the number of local modules (K >= 1).
            Defaults to 2.
        split_points (Sequence[int], optional): Index, in the element
            sequence ``[stem, blocks.0.0, blocks.1.0, ...]``, of the first
            element of each module after the first. None lets the segmentor
            choose a memory-balanced split. Defaults to None.
        pretrained (bool): Load timm's own ImageNet weights (needs access
            to timm's model hub). Defaults to False, unlike mmseg's class:
            the shipped configs load converted weights through ``init_cfg``.
        with_cp (bool): Activation (gradient) checkpointing, as mmseg's
            ResNet ``with_cp``: in training, every element (the stem and
            each block) keeps only its input and recomputes its inside
            during the backward pass, end to end and inside each local
            module. Gradients are unchanged; as with every recomputed
            BatchNorm, the running statistics see each batch twice.
            Defaults to False.
        **kwargs: The other arguments of :class:`TIMMBackbone` and of timm's
            model (``out_indices``, ``output_stride``, ``drop_path_rate``,
            ``checkpoint_path``, ``init_cfg``, ...). ``features_only`` must
            stay True and ``feature_location`` ``'bottleneck'`` (timm's
            defaults): the stage outputs are the blocks' outputs.

    Raises:
        ConfigError: If the timm model is not one of the EfficientNet
            builder's feature models or reads features inside its blocks.

    Example:
        >>> from mmseg_infopro.models import InfoProTIMMBackbone
        >>> net = InfoProTIMMBackbone(
        ...     model_name='tf_efficientnet_lite0', out_indices=(1, 2, 3, 4),
        ...     output_stride=16, split_points=(6,))
        >>> net.elements[4:7]
        [('blocks.2.0', 2), ('blocks.2.1', 2), ('blocks.3.0', 3)]
        >>> net.out_indices, net.element_out_stride(16)
        ((1, 2, 3, 4), 16)
    """

    def __init__(self,
                 model_name: str,
                 num_local_modules: int = 2,
                 split_points: Optional[Sequence[int]] = None,
                 pretrained: bool = False,
                 with_cp: bool = False,
                 **kwargs) -> None:
        if not kwargs.get('features_only', True):
            raise ConfigError(
                f'backbone.features_only={kwargs["features_only"]!r}: '
                f'InfoProTIMMBackbone needs timm\'s feature model; remove '
                f'the key.')
        super().__init__(model_name=model_name, pretrained=pretrained,
                         **kwargs)
        net = self.timm_model
        if not all(hasattr(net, a) for a in ('conv_stem', 'bn1', 'blocks',
                                             'feature_info')):
            raise ConfigError(
                f'backbone.model_name={model_name!r} is a timm '
                f'{type(net).__name__}; InfoProTIMMBackbone cuts the models '
                f'of timm\'s EfficientNet builder (efficientnet_*, '
                f'tf_efficientnet_*, mobilenetv2_*, mobilenetv3_*, mnasnet_*, '
                f'mixnet_*, ...).')
        if getattr(net, 'feature_hooks', None) is not None:
            raise ConfigError(
                'backbone.feature_location must be "bottleneck" (the '
                'default): InfoProTIMMBackbone hands on block outputs.')
        self.out_indices = tuple(net.feature_info.out_indices)
        self.with_cp = bool(with_cp)
        self._init_local_modules(num_local_modules, split_points)

    def forward(self, x: Tensor) -> List[Tensor]:
        """timm's forward (the stage outputs in ``out_indices`` order); with
        ``with_cp`` in training, element by element, each checkpointed."""
        if not self._checkpointing():
            return super().forward(x)
        _, stage_outs = self.forward_elements(x, 0, self.num_elements)
        return [stage_outs[s] for s in self.out_indices]

    def _checkpointing(self) -> bool:
        return self.with_cp and self.training and torch.is_grad_enabled()

    def _level(self, stack: int) -> int:
        """Feature level that timm's block stack ``stack`` belongs to (-1
        for the stem, ``stack=-1``, unless it is a level of its own)."""
        for level, info in enumerate(self.timm_model.feature_info.info):
            if info['stage'] >= stack + 1:
                return level
        raise ConfigError(f'timm block stack {stack} ends no feature level.')

    def _element_names(self) -> List[Tuple[str, int]]:
        infos = self.timm_model.feature_info.info
        names = [('stem', 0 if infos[0]['stage'] == 0 else -1)]
        for stack, blocks in enumerate(self.timm_model.blocks):
            names += [(f'blocks.{stack}.{b}', self._level(stack))
                      for b in range(len(blocks))]
        return names

    def _block(self, index: int) -> nn.Module:
        _, stack, block = self.elements[index][0].split('.')
        return self.timm_model.blocks[int(stack)][int(block)]

    def element_out_channels(self, index: int) -> int:
        """Number of channels that element ``index`` outputs."""
        if index == 0:
            return self.timm_model.conv_stem.out_channels
        return self._block(index).feature_info('bottleneck')['num_chs']

    def element_out_stride(self, index: int) -> int:
        """Output stride (w.r.t. the input image) of element ``index``;
        timm's feature info already counts the strides that
        ``output_stride`` turned into dilations."""
        level = self.elements[index][1]
        if level < 0:
            return 2  # the stem conv; no level ends here
        return self.timm_model.feature_info.info[level]['reduction']

    def element_parameters(self, index: int) -> Iterator[nn.Parameter]:
        """Parameters of element ``index``."""
        if index > 0:
            return self._block(index).parameters()
        net = self.timm_model
        return (p for m in (net.conv_stem, net.bn1) for p in m.parameters())

    def _run_element(self, index: int, x: Tensor) -> Tensor:
        if self._checkpointing():
            # Non-reentrant: also for the stem, whose input (the image)
            # needs no gradient; dropout and drop-path masks are replayed.
            return cp.checkpoint(self._element, index, x, use_reentrant=False)
        return self._element(index, x)

    def _element(self, index: int, x: Tensor) -> Tensor:
        if index > 0:
            return self._block(index)(x)
        net = self.timm_model
        x = net.bn1(net.conv_stem(x))
        act = getattr(net, 'act1', None)  # MobileNetV3 keeps it apart
        return x if act is None else act(x)
