"""Checkpoint files, the split they record and whether their weights fit a
model (mmseg_infopro.utils.checkpoint)."""
import pytest
import torch

from mmseg_infopro.utils import (SPLIT_KEY, CheckpointError, decode_split,
                                 encode_split, load_checkpoint_file,
                                 misfit_weights, recorded_split)


def test_the_recorded_split_round_trips():
    assert decode_split(encode_split((8, 12))) == (8, 12)
    assert encode_split(None).dtype == torch.long
    assert decode_split(encode_split(None)) is None  # undecided
    state = {'m.' + SPLIT_KEY: encode_split((5, ))}
    assert recorded_split(state, 'm.') == (5, )
    assert recorded_split(state) is None  # another prefix
    assert recorded_split({}) is None  # K = 1, or plain mmseg


def test_misfit_weights_names_missing_reshaped_and_unexpected():
    model = {'backbone.w': torch.zeros(2, 3), 'decode_head.b': torch.zeros(4),
             SPLIT_KEY: encode_split((3, ))}
    saved = {'backbone.w': torch.zeros(3, 3), 'aux.x': torch.zeros(1)}
    assert misfit_weights(model, saved, ('backbone.', 'decode_head.')) == [
        'backbone.w: checkpoint (3, 3), model (2, 3)', 'decode_head.b: missing'
    ]
    assert misfit_weights(model, saved, ('backbone.', )) == [
        'backbone.w: checkpoint (3, 3), model (2, 3)'
    ]
    # Everything, the checkpoint's extra keys too; the split is no weight.
    assert misfit_weights(model, saved, unexpected=True)[-1] == \
        'aux.x: in the checkpoint, not in the model'
    assert not misfit_weights(model, dict(model))


def test_a_broken_file_is_one_error(tmp_path):
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    with pytest.raises(CheckpointError, match='empty'):
        load_checkpoint_file(str(empty))
    with pytest.raises(CheckpointError, match='does not exist'):
        load_checkpoint_file(str(tmp_path / 'none.pth'))
    junk = tmp_path / 'junk.pth'
    junk.write_bytes(b'not a checkpoint')
    with pytest.raises(CheckpointError, match='weights_only'):
        load_checkpoint_file(str(junk))
