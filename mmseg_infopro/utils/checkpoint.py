"""Checkpoint files: loading them with one clear error, the split they
record, and whether their weights fit a model."""
import os.path as osp
from typing import List, Mapping, Optional, Sequence, Tuple

import torch
from torch import Tensor

from .errors import CheckpointError

__all__ = [
    'load_checkpoint_file', 'SPLIT_KEY', 'encode_split', 'decode_split',
    'recorded_split', 'misfit_weights'
]

#: Where an InfoPro segmentor's state dict records the split its local
#: heads were trained for (``LocalHeads``' extra state: int64 split points,
#: empty while an automatic split is undecided).
SPLIT_KEY = 'local_heads._extra_state'


def load_checkpoint_file(path: str) -> dict:
    """``torch.load(path, weights_only=True)`` on the CPU, memory-mapped
    (but for files in torch's legacy format).

    Raises:
        CheckpointError: For a missing or empty file, or one that torch
            cannot load with ``weights_only=True`` (torch's own advice to
            retry with ``weights_only=False`` is not repeated: that would
            run arbitrary code from the file).
    """
    if not osp.isfile(path):
        raise CheckpointError(f'checkpoint {path!r} does not exist.')
    if osp.getsize(path) == 0:
        raise CheckpointError(f'checkpoint {path!r} is empty (0 bytes); was '
                              f'it written completely?')
    try:
        try:
            return torch.load(
                path, map_location='cpu', weights_only=True, mmap=True)
        except RuntimeError as e:
            if 'mmap can only be used' not in str(e):
                raise
            # The legacy (torch < 1.6) format cannot be memory-mapped, e.g.
            # older ImageNet weights.
            return torch.load(path, map_location='cpu', weights_only=True)
    except Exception as e:  # UnpicklingError, RuntimeError, EOFError, ...
        raise CheckpointError(
            f'{path} is not a checkpoint that loads with weights_only=True '
            f'({type(e).__name__}). Checkpoints written by this project\'s '
            f'tools/train.py do; a truncated or foreign file does not (see '
            f'docs/faq.md).') from e


def encode_split(split_points: Optional[Sequence[int]]) -> Tensor:
    """The split points as the state dict keeps them (None: undecided)."""
    return torch.tensor(tuple(split_points or ()), dtype=torch.long)


def decode_split(value: Tensor) -> Optional[Tuple[int, ...]]:
    """The split points :func:`encode_split` kept; None if undecided."""
    points = tuple(int(p) for p in value.tolist())
    return points or None


def recorded_split(state_dict: Mapping[str, Tensor],
                   prefix: str = '') -> Optional[Tuple[int, ...]]:
    """The split a state dict's local heads were trained for, or None (no
    InfoPro model, K = 1, or an undecided automatic split)."""
    value = state_dict.get(prefix + SPLIT_KEY)
    return None if value is None else decode_split(value)


def misfit_weights(model_state: Mapping[str, Tensor],
                   checkpoint_state: Mapping[str, Tensor],
                   prefixes: Sequence[str] = ('', ),
                   unexpected: bool = False) -> List[str]:
    """The weights under ``prefixes`` that the checkpoint does not provide
    for the model: missing or of another shape, and with ``unexpected``
    also those only the checkpoint has. Extra states (the recorded split)
    are not weights.

    Args:
        model_state (Mapping[str, Tensor]): The model's state dict.
        checkpoint_state (Mapping[str, Tensor]): The checkpoint's.
        prefixes (Sequence[str]): Parts that must load, e.g.
            ``('backbone.', 'decode_head.')``; ``''`` for all.
        unexpected (bool): Also count the checkpoint's own keys under
            ``prefixes`` that the model lacks. Defaults to False.

    Returns:
        list[str]: ``'<key>: missing'``, ``'<key>: checkpoint <shape>,
        model <shape>'`` (in the model's order), then ``'<key>: in the
        checkpoint, not in the model'``.
    """
    prefixes = tuple(prefixes)

    def counted(key: str) -> bool:
        return key.startswith(prefixes) and not key.endswith('_extra_state')

    problems = []
    for key, value in model_state.items():
        if not counted(key):
            continue
        if key not in checkpoint_state:
            problems.append(f'{key}: missing')
        elif checkpoint_state[key].shape != value.shape:
            problems.append(f'{key}: checkpoint '
                            f'{tuple(checkpoint_state[key].shape)}, model '
                            f'{tuple(value.shape)}')
    if unexpected:
        problems += [
            f'{key}: in the checkpoint, not in the model'
            for key in checkpoint_state
            if counted(key) and key not in model_state
        ]
    return problems
