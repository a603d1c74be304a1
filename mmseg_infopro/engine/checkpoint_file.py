"""Checkpoint files: load them with one clear error."""
import os.path as osp

import torch

__all__ = ['CheckpointError', 'load_checkpoint_file']


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message says why."""


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
