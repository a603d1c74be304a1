"""The interface InfoPro needs from a backbone: a sequence cut into modules.

A backbone is seen as a flat sequence of *elements* (for a ResNet the stem
and every residual block; for a vision transformer each stage's patch
embedding and every transformer block). A local module is a contiguous
slice of that sequence; ``split_points`` are the indices at which a new
module starts, like the boundaries of Python slices.

:class:`LocalModulesMixin` implements the split and the module-by-module
forward once. A backbone family adapts to it by subclassing the mixin and
the mmseg backbone, and implementing five small methods (see the mixin);
``infopro_resnet.py`` and ``infopro_mit.py`` are the adapters.
"""
from typing import Dict, List, Optional, Sequence, Tuple

from torch import Tensor

from ...utils import ConfigError

__all__ = ['LocalModulesMixin', 'validate_split_points']


def validate_split_points(split_points: Sequence[int], num_local_modules: int,
                          num_elements: int) -> Tuple[int, ...]:
    """Check explicit split points and return them as a tuple.

    Args:
        split_points (Sequence[int]): Index of the first element of every
            module after the first one.
        num_local_modules (int): K, the number of local modules.
        num_elements (int): Length of the element sequence.

    Returns:
        tuple[int, ...]: The validated split points.

    Raises:
        ValueError: If the points are not a list or tuple, their number is
            not K - 1, a point is not an int, lies outside
            ``[1, num_elements - 1]``, or the points are not strictly
            increasing.
    """
    if not isinstance(split_points, (list, tuple)):
        raise ConfigError(
            f'split_points must be a sequence of ints, e.g. (21,) for one '
            f'boundary, got {split_points!r}.')
    points = tuple(split_points)
    if len(points) != num_local_modules - 1:
        raise ConfigError(
            f'split_points={points} has {len(points)} entries, but '
            f'num_local_modules={num_local_modules} needs '
            f'{num_local_modules - 1} (one per module boundary).')
    for p in points:
        if not isinstance(p, int) or isinstance(p, bool):
            raise ConfigError(
                f'split_points must be ints, got {p!r} in {points}.')
        if not 1 <= p <= num_elements - 1:
            raise ConfigError(
                f'split point {p} in {points} is out of range: valid points '
                f'are 1..{num_elements - 1} (0 is the first element, '
                f'{num_elements - 1} the last; a point is the index of the '
                f'first element of a new module).')
    for a, b in zip(points, points[1:]):
        if a >= b:
            raise ConfigError(
                f'split_points={points} must be strictly increasing '
                f'(found {a} before {b}); sort them and drop duplicates.')
    return points


class LocalModulesMixin:
    """A backbone cut into K locally supervised modules.

    What :class:`~mmseg_infopro.models.segmentors.InfoProEncoderDecoder`
    relies on, implemented once: ``num_local_modules``, ``split_points``,
    :meth:`set_split_points`, :attr:`module_ranges`,
    :meth:`forward_elements` and :meth:`forward_local_module`. A family
    adapter calls :meth:`_init_local_modules` at the end of its
    ``__init__`` and implements:

    - ``_element_names() -> list[tuple[str, int]]``: the elements in order,
      each with the index of the stage it belongs to (-1 before the first
      stage, e.g. a stem);
    - ``_run_element(index, x) -> Tensor``: one element on an NCHW input,
      giving an NCHW output (a whole stage's output after its last
      element);
    - ``element_out_channels(index)``, ``element_out_stride(index)``:
      the channels and stride (w.r.t. the image) of an element's output;
    - ``element_parameters(index)``: the element's parameters;

    and has ``out_indices`` (the stages whose outputs the heads read).
    A family may override :meth:`forward_elements` to keep another
    representation inside a range (the transformer adapter keeps tokens).
    """

    def _init_local_modules(self, num_local_modules: int,
                            split_points: Optional[Sequence[int]]) -> None:
        self.elements: List[Tuple[str, int]] = self._element_names()
        num_elements = len(self.elements)
        if not isinstance(num_local_modules, int) or num_local_modules < 1:
            raise ConfigError(f'num_local_modules must be an int >= 1, got '
                              f'{num_local_modules!r}.')
        if num_local_modules > num_elements:
            raise ConfigError(
                f'num_local_modules={num_local_modules} exceeds the '
                f'{num_elements} elements of this {type(self).__name__}; use '
                f'at most {num_elements}.')
        self.num_local_modules = num_local_modules
        self.split_points: Optional[Tuple[int, ...]] = None
        if split_points is not None:
            self.set_split_points(split_points)
        elif num_local_modules == 1:
            self.split_points = ()

    @property
    def num_elements(self) -> int:
        """Length of the element sequence."""
        return len(self.elements)

    def set_split_points(self, split_points: Sequence[int]) -> None:
        """Validate and set the module boundaries."""
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

    def _stage_end(self, index: int) -> Optional[int]:
        """Stage whose last element is element ``index``, else None."""
        stage = self.elements[index][1]
        if stage < 0:
            return None
        if index == self.num_elements - 1 or \
                self.elements[index + 1][1] != stage:
            return stage
        return None

    def forward_elements(self, x: Tensor, start: int,
                         stop: int) -> Tuple[Tensor, Dict[int, Tensor]]:
        """Run elements ``start .. stop - 1``.

        Args:
            x (Tensor): Input of element ``start`` (the image for the first).
            start (int): First element to run.
            stop (int): One past the last element to run.

        Returns:
            tuple[Tensor, dict[int, Tensor]]: The output of element
            ``stop - 1`` and the outputs of the stages in ``out_indices``
            that end inside the range, keyed by stage index.
        """
        stage_outs = {}
        for index in range(start, stop):
            x = self._run_element(index, x)
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
