"""The ResNet family cut into local modules: ResNetV1c, ResNetV1d, ResNeXt
and ResNeSt.

Elements: the stem (including the max-pool) is element 0, followed by every
residual block in order (``layer1.0``, ``layer1.1``, …, ``layer4.{n-1}``).
"""
from typing import Callable, Iterator, List, Optional, Sequence, Tuple

import torch.nn as nn
from mmseg.models.backbones import ResNeSt, ResNetV1c, ResNetV1d, ResNeXt
from mmseg.registry import MODELS
from torch import Tensor

from .local_modules import LocalModulesMixin

__all__ = [
    'InfoProResNetMixin', 'InfoProResNetV1c', 'InfoProResNetV1d',
    'InfoProResNeXt', 'InfoProResNeSt'
]


class InfoProResNetMixin(LocalModulesMixin):
    """The element sequence of an mmseg ResNet (the adapter of the family).

    Combined with an mmseg ResNet class, it keeps that class's arguments,
    parameters, state-dict keys and ``forward``, so ImageNet-pretrained
    weights load unchanged and trained weights load back into the plain
    class.

    Args:
        num_local_modules (int): K, the number of local modules (K >= 1).
            K = 1 is plain end-to-end training. Defaults to 2.
        split_points (Sequence[int], optional): Index, in the element
            sequence ``[stem, block 1, block 2, ...]``, of the first element
            of each module after the first (K - 1 strictly increasing ints
            in ``[1, num_elements - 1]``). For ResNet-101 the published
            K = 2 split (13 of layer3's 23 blocks in module 1) is ``(21,)``.
            None lets the segmentor choose the split that balances the
            measured memory of the modules. Defaults to None.
        **kwargs: The arguments of the mmseg ResNet class.
    """

    def __init__(self,
                 num_local_modules: int = 2,
                 split_points: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self._init_local_modules(num_local_modules, split_points)

    def _element_names(self) -> List[Tuple[str, int]]:
        names = [('stem', -1)]
        for stage, layer_name in enumerate(self.res_layers):
            for b in range(len(getattr(self, layer_name))):
                names.append((f'{layer_name}.{b}', stage))
        return names

    def element_out_channels(self, index: int) -> int:
        """Number of channels that element ``index`` outputs."""
        if index == 0:
            return self.stem_channels
        stage = self.elements[index][1]
        return self.block.expansion * self.base_channels * 2**stage

    def element_out_stride(self, index: int) -> int:
        """Output stride (w.r.t. the input image) of element ``index``."""
        stride = 4  # stem conv (stride 2) followed by the stride-2 max-pool
        for name, stage in self.elements[1:index + 1]:
            if name.endswith('.0'):
                stride *= self.strides[stage]
        return stride

    def element_parameters(self, index: int) -> Iterator[nn.Parameter]:
        """Parameters of element ``index``."""
        if index > 0:
            return self._block(index).parameters()
        stem = [self.stem] if self.deep_stem else [self.conv1, self.norm1]
        return (p for m in stem for p in m.parameters())

    def _block(self, index: int) -> Callable[[Tensor], Tensor]:
        layer_name, block = self.elements[index][0].split('.')
        return getattr(self, layer_name)[int(block)]

    def _run_element(self, index: int, x: Tensor) -> Tensor:
        if index > 0:
            return self._block(index)(x)
        if self.deep_stem:
            x = self.stem(x)
        else:
            x = self.relu(self.norm1(self.conv1(x)))
        return self.maxpool(x)


@MODELS.register_module()
class InfoProResNetV1c(InfoProResNetMixin, ResNetV1c):
    """mmseg's :class:`ResNetV1c` (DeepLab's deep-stem ResNet) cut into K
    local modules; see :class:`InfoProResNetMixin` for the two extra
    arguments.

    Example:
        >>> from mmseg_infopro.models import InfoProResNetV1c
        >>> net = InfoProResNetV1c(depth=18, num_local_modules=2,
        ...                        split_points=(5,))
        >>> net.module_ranges
        [(0, 5), (5, 9)]
    """


@MODELS.register_module()
class InfoProResNetV1d(InfoProResNetMixin, ResNetV1d):
    """mmseg's :class:`ResNetV1d` (deep stem, average-pool downsampling) cut
    into K local modules; see :class:`InfoProResNetMixin`."""


@MODELS.register_module()
class InfoProResNeXt(InfoProResNetMixin, ResNeXt):
    """mmseg's :class:`ResNeXt` cut into K local modules; see
    :class:`InfoProResNetMixin`."""


@MODELS.register_module()
class InfoProResNeSt(InfoProResNetMixin, ResNeSt):
    """mmseg's :class:`ResNeSt` (split-attention blocks) cut into K local
    modules; see :class:`InfoProResNetMixin`."""
