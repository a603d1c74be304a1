"""The local heads of a split model, tied to the split they were built for."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.model import ModuleList

from ...utils import ConfigError, decode_split, encode_split

__all__ = ['LocalHeads']


class LocalHeads(ModuleList):
    """The local heads of modules 1..K-1 and the backbone split they train.

    An mmengine ``ModuleList``, so that the segmentor's ``init_weights``
    reaches every head (their ``init_cfg`` and, e.g., FCNHead's ``conv_seg``
    initialisation); a plain ``nn.ModuleList`` is skipped by it.

    It starts empty while an automatic split is not decided yet (the
    segmentor measures it when training starts, or a loaded checkpoint sets
    it) and is filled by :meth:`build`. The split points go into the state
    dict (``local_heads._extra_state``, ``mmseg_infopro.utils.SPLIT_KEY``,
    an int64 tensor, empty while undecided). Local heads trained on other
    module outputs must not load silently (their shapes can even match), so
    loading a checkpoint made for another split raises an error that names
    the split to configure.
    """

    def __init__(self) -> None:
        super().__init__()
        self.split_points: Optional[Tuple[int, ...]] = None

    def build(self, heads: List[nn.Module],
              split_points: Sequence[int]) -> None:
        """Hold ``heads``, one per split point, replacing any before.

        Raises:
            ValueError: If the numbers of heads and split points differ.
        """
        split_points = tuple(split_points)
        if len(heads) != len(split_points):
            raise ValueError(
                f'{len(heads)} local heads for split_points={split_points}: '
                f'expected one head per split point.')
        del self[:]
        self.extend(heads)
        self.split_points = split_points

    def get_extra_state(self) -> torch.Tensor:
        return encode_split(self.split_points)

    def set_extra_state(self, state: torch.Tensor) -> None:
        points = decode_split(state)
        if points is None or points == self.split_points:
            return
        mine = self.split_points if self.split_points is not None else \
            'an automatic split of another K'
        raise ConfigError(
            f'The checkpoint\'s local heads were trained with backbone '
            f'split_points={points}, but this model splits at {mine}. To '
            f'resume or test it, set model.backbone.split_points={points} '
            f'(e.g. --cfg-options "model.backbone.split_points={points}") '
            f'and the num_local_modules it implies (this project\'s '
            f'tools/train.py and tools/test.py take it from the checkpoint '
            f'by themselves); to train another split from its weights, '
            f'export them with tools/model_converters/infopro2mmseg.py and '
            f'load that.')
