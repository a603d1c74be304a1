import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer, MessageHub

from mmseg_infopro.engine import WeightsOnlyCheckpointHook


def message_hub_checkpoint():
    hub = MessageHub.get_instance('test_weights_only_hook')
    for i in range(5):
        hub.update_scalar('train/loss', float(i) / 3)
    hub.update_info('eta', np.float64(12.5))
    hub.update_info('hist', np.arange(3))
    return dict(
        meta=dict(iter=5, seed=np.int64(3)),
        state_dict=dict(w=torch.ones(2)),
        message_hub=hub.state_dict())


def test_plain_checkpoint_loads_with_weights_only(tmp_path):
    ckpt = message_hub_checkpoint()
    raw = tmp_path / 'raw.pth'
    torch.save(ckpt, raw)
    # What mmengine writes by itself is refused by torch >= 2.6's default.
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(raw, weights_only=True)

    hook = WeightsOnlyCheckpointHook()
    hook.before_save_checkpoint(None, ckpt)
    path = tmp_path / 'plain.pth'
    torch.save(ckpt, path)
    loaded = torch.load(path, weights_only=True)
    assert loaded['meta'] == dict(iter=5, seed=3)

    hook.after_load_checkpoint(None, loaded)
    buf = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buf, HistoryBuffer)
    np.testing.assert_allclose(buf.data[0], np.arange(5) / 3)
    assert buf.mean(5) == pytest.approx(np.mean(np.arange(5) / 3))
    hub = MessageHub.get_instance('test_weights_only_hook_resumed')
    hub.load_state_dict(loaded['message_hub'])
    assert hub.get_info('eta') == 12.5
    assert hub.get_scalar('train/loss').current() == pytest.approx(4 / 3)
