"""The local heads of a split model, tied to the split they were built for."""
from typing import Iterable, Sequence

import torch
import torch.nn as nn
from mmengine.model import ModuleList

__all__ = ['LocalHeads']


class LocalHeads(ModuleList):
    """The local heads of modules 1..K-1 and the backbone split they train.

    An mmengine ``ModuleList``, so that the segmentor's ``init_weights``
    reaches every head (their ``init_cfg`` and, e.g., FCNHead's ``conv_seg``
    initialisation); a plain ``nn.ModuleList`` is skipped by it.

    The split points go into the state dict (``local_heads._extra_state``,
    an int64 tensor: mmengine broadcasts every state-dict value as a tensor
    in distributed training).

    An automatic split is measured anew at every build and may differ on
    another machine or torch version; heads trained on other module outputs
    must not load silently (their shapes can even match), so loading a
    checkpoint made for another split raises an error that names the split
    to configure.

    Args:
        heads (Iterable[nn.Module]): One local head per module but the last.
        split_points (Sequence[int]): The backbone's split points.
    """

    def __init__(self, heads: Iterable[nn.Module],
                 split_points: Sequence[int]) -> None:
        super().__init__(heads)
        self.split_points = tuple(split_points)
        if len(self) != len(self.split_points):
            raise ValueError(
                f'{len(self)} local heads for split_points='
                f'{self.split_points}: expected one head per split point.')

    def get_extra_state(self) -> torch.Tensor:
        return torch.tensor(self.split_points, dtype=torch.long)

    def set_extra_state(self, state: torch.Tensor) -> None:
        points = tuple(state.tolist())
        if points != self.split_points:
            raise ValueError(
                f'The checkpoint\'s local heads were trained with backbone '
                f'split_points={points}, but this model splits at '
                f'{self.split_points}. To resume or test it, set '
                f'model.backbone.split_points={points} (e.g. --cfg-options '
                f'"model.backbone.split_points={points}"); to train another '
                f'split from its weights, export them with '
                f'tools/model_converters/infopro2mmseg.py and load that.')
