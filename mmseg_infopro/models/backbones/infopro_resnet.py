"""ResNetV1c cut into local modules for InfoPro training.

The network is seen as a flat sequence of *elements*: the stem (including the
max-pool) is element 0, followed by every residual block in order
(``layer1.0``, ``layer1.1``, …, ``layer4.{n-1}``). A local module is a
contiguous slice of that sequence; ``split_points`` are the indices at which a
new module starts, like the boundaries of Python slices.
"""
from typing import Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import torch.nn as nn
from mmseg.models.backbones import ResNetV1c
from mmseg.registry import MODELS
from torch import Tensor

__all__ = ['InfoProResNetV1c', 'validate_split_points']


def validate_split_points(split_points: Sequence[int], num_local_modules: int,
                          num_elements: int) -> Tuple[int, ...]:
    """Check explicit split points and return them as a tuple.

    Args:
        split_points (Sequence[int]): Index of the first element of every
            module after the first one.
        num_local_modules (int): K, the number of local modules.
        num_elements (int): Length of the element sequence (stem + blocks).

    Returns:
        tuple[int, ...]: The validated split points.

    Raises:
        ValueError: If the points are not a list or tuple, their number is
            not K - 1, a point is not an int, lies outside
            ``[1, num_elements - 1]``, or the points are not strictly
            increasing.
    """
    if not isinstance(split_points, (list, tuple)):
        raise ValueError(
            f'split_points must be a sequence of ints, e.g. (21,) for one '
            f'boundary, got {split_points!r}.')
    points = tuple(split_points)
    if len(points) != num_local_modules - 1:
        raise ValueError(
            f'split_points={points} has {len(points)} entries, but '
            f'num_local_modules={num_local_modules} needs '
            f'{num_local_modules - 1} (one per module boundary).')
    for p in points:
        if not isinstance(p, int) or isinstance(p, bool):
            raise ValueError(
                f'split_points must be ints, got {p!r} in {points}.')
        if not 1 <= p <= num_elements - 1:
            raise ValueError(
                f'split point {p} in {points} is out of range: valid points '
                f'are 1..{num_elements - 1} (0 is the stem, '
                f'{num_elements - 1} the last block; a point is the index of '
                f'the first element of a new module).')
    for a, b in zip(points, points[1:]):
        if a >= b:
            raise ValueError(
                f'split_points={points} must be strictly increasing '
                f'(found {a} before {b}); sort them and drop duplicates.')
    return points


@MODELS.register_module()
class InfoProResNetV1c(ResNetV1c):
    """ResNetV1c whose blocks are grouped into K locally supervised modules.

    Same arguments, same parameters and state-dict keys and the same
    ``forward`` as mmseg's :class:`ResNetV1c`, so ImageNet-pretrained
    ``open-mmlab://resnet101_v1c`` weights load unchanged and trained weights
    load back into a plain ``ResNetV1c``. On top, it describes the split into
    local modules and runs one module at a time
    (:meth:`forward_local_module`), which
    :class:`~mmseg_infopro.models.segmentors.InfoProEncoderDecoder` uses to
    train module by module.

    Args:
        num_local_modules (int): K, the number of local modules (K >= 1).
            K = 1 is plain end-to-end training. Defaults to 2.
        split_points (Sequence[int], optional): Index, in the element
            sequence ``[stem, block 1, block 2, ...]``, of the first element
            of each module after the first (K - 1 strictly increasing ints in
            ``[1, num_elements - 1]``). For ResNet-101 the published K = 2
            split (13 of layer3's 23 blocks in module 1) is ``(21,)``. None
            lets the segmentor choose the split that balances the measured
            activation memory of the modules. Defaults to None.
        **kwargs: All arguments of :class:`mmseg.models.backbones.ResNetV1c`.

    Example:
        >>> import torch
        >>> from mmseg_infopro.models import InfoProResNetV1c
        >>> net = InfoProResNetV1c(depth=18, num_local_modules=2,
        ...                        split_points=(5,))
        >>> net.module_ranges
        [(0, 5), (5, 9)]
    """

    def __init__(self,
                 num_local_modules: int = 2,
                 split_points: Optional[Sequence[int]] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        self.elements: List[Tuple[str, int]] = [('stem', -1)]
        for stage, layer_name in enumerate(self.res_layers):
            for b in range(len(getattr(self, layer_name))):
                self.elements.append((f'{layer_name}.{b}', stage))
        num_elements = len(self.elements)
        if not isinstance(num_local_modules, int) or num_local_modules < 1:
            raise ValueError(f'num_local_modules must be an int >= 1, got '
                             f'{num_local_modules!r}.')
        if num_local_modules > num_elements:
            raise ValueError(
                f'num_local_modules={num_local_modules} exceeds the '
                f'{num_elements} elements (stem + {num_elements - 1} blocks) '
                f'of ResNetV1c-{self.depth} with num_stages='
                f'{self.num_stages}; use at most {num_elements}.')
        self.num_local_modules = num_local_modules
        self.split_points: Optional[Tuple[int, ...]] = None
        if split_points is not None:
            self.set_split_points(split_points)
        elif num_local_modules == 1:
            self.split_points = ()

    @property
    def num_elements(self) -> int:
        """Length of the element sequence (stem + all residual blocks)."""
        return len(self.elements)

    def set_split_points(self, split_points: Sequence[int]) -> None:
        """Validate and set the module boundaries (see the class doc)."""
        self.split_points = validate_split_points(split_points,
                                                  self.num_local_modules,
                                                  self.num_elements)

    @property
    def module_ranges(self) -> List[Tuple[int, int]]:
        """``[start, stop)`` element ranges of the K local modules."""
        if self.split_points is None:
            raise RuntimeError(
                'split_points are not set: build the backbone through '
                'InfoProEncoderDecoder (which chooses a balanced split) or '
                'pass split_points explicitly.')
        bounds = (0, ) + self.split_points + (self.num_elements, )
        return list(zip(bounds[:-1], bounds[1:]))

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
            return self._element(index).parameters()
        stem = [self.stem] if self.deep_stem else [self.conv1, self.norm1]
        return (p for m in stem for p in m.parameters())

    def _stage_end(self, index: int) -> Optional[int]:
        """Stage whose last block is element ``index``, else None."""
        if index == self.num_elements - 1:
            return self.elements[index][1]
        stage, next_stage = self.elements[index][1], self.elements[index +
                                                                   1][1]
        return stage if index > 0 and next_stage != stage else None

    def _element(self, index: int) -> Callable[[Tensor], Tensor]:
        name = self.elements[index][0]
        if name == 'stem':
            return self._stem_forward
        layer_name, block = name.split('.')
        return getattr(self, layer_name)[int(block)]

    def _stem_forward(self, x: Tensor) -> Tensor:
        if self.deep_stem:
            x = self.stem(x)
        else:
            x = self.relu(self.norm1(self.conv1(x)))
        return self.maxpool(x)

    def forward_elements(self, x: Tensor, start: int,
                         stop: int) -> Tuple[Tensor, Dict[int, Tensor]]:
        """Run elements ``start .. stop - 1``.

        Args:
            x (Tensor): Input of element ``start`` (the image for the stem).
            start (int): First element to run.
            stop (int): One past the last element to run.

        Returns:
            tuple[Tensor, dict[int, Tensor]]: The output of element
            ``stop - 1`` and the outputs of the stages in ``out_indices``
            that end inside the range, keyed by stage index.
        """
        stage_outs = {}
        for index in range(start, stop):
            x = self._element(index)(x)
            stage = self._stage_end(index)
            if stage is not None and stage in self.out_indices:
                stage_outs[stage] = x
        return x, stage_outs

    def forward_local_module(self, module: int,
                             x: Tensor) -> Tuple[Tensor, Dict[int, Tensor]]:
        """Run local module ``module`` (0-based); see
        :meth:`forward_elements` for the return value."""
        start, stop = self.module_ranges[module]
        return self.forward_elements(x, start, stop)
