"""Checkpoints that load under torch's ``weights_only=True`` default.

mmengine 0.10.7 pickles its ``HistoryBuffer`` objects (whose state holds
bound statistics functions, i.e. a ``getattr`` call in the pickle) and numpy
scalars into every checkpoint. torch >= 2.6 refuses to load those with its
default ``weights_only=True``, so ``tools/test.py``, ``load_from``,
``--resume`` and ``mmseg.apis.init_model`` fail. Allow-listing ``getattr``
would defeat the protection, so this hook stores the message hub as tensors
and plain containers instead, and restores the ``HistoryBuffer`` objects when
a checkpoint is loaded for resuming.
"""
from typing import Any

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import HistoryBuffer
from mmseg.registry import HOOKS

__all__ = ['WeightsOnlyCheckpointHook', 'to_plain', 'from_plain']

_BUFFER_TAG = '__history_buffer__'


def to_plain(obj: Any) -> Any:
    """Replace HistoryBuffers and numpy objects by tensors/plain values."""
    if isinstance(obj, HistoryBuffer):
        log, count = obj.data
        return {
            _BUFFER_TAG: True,
            'log_history': torch.from_numpy(np.array(log)),
            'count_history': torch.from_numpy(np.array(count)),
            'max_length': int(obj.max_length),
        }
    if isinstance(obj, np.ndarray):
        return torch.from_numpy(obj.copy())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return type(obj)((k, to_plain(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_plain(v) for v in obj)
    return obj


def from_plain(obj: Any) -> Any:
    """Rebuild the HistoryBuffers that :func:`to_plain` stored."""
    if isinstance(obj, dict):
        if obj.get(_BUFFER_TAG) is True:
            return HistoryBuffer(obj['log_history'].numpy(),
                                 obj['count_history'].numpy(),
                                 obj['max_length'])
        return type(obj)((k, from_plain(v)) for k, v in obj.items())
    return obj


@HOOKS.register_module()
class WeightsOnlyCheckpointHook(Hook):
    """Keep checkpoints loadable with ``torch.load(weights_only=True)``.

    Added by ``tools/train.py`` when a config does not list it; add it to
    ``custom_hooks`` when building a Runner yourself.
    """

    priority = 'VERY_LOW'  # after hooks that add to the checkpoint

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        for key in ('meta', 'message_hub'):
            if key in checkpoint:
                checkpoint[key] = to_plain(checkpoint[key])

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if 'message_hub' in checkpoint:
            checkpoint['message_hub'] = from_plain(checkpoint['message_hub'])
