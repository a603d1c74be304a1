"""InfoProEncoderDecoder where the Runner put it: what it builds after
construction (the local heads of an automatic split or of a checkpoint)
follows the model's device, dtype and SyncBN layers.

A model in float64, or on the meta device, is the CPU stand-in for a model
on a GPU: a tensor made on the CPU in float32 meets it and fails, as it
would on the GPU. The same tests run on CUDA where there is one
(``pytest -m cuda``, part of ``make gpu-check``).
"""
import pytest
import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from mmengine.model import convert_sync_batchnorm, revert_sync_batchnorm
from mmengine.optim import build_optim_wrapper
from mmengine.runner import load_checkpoint
from mmseg.registry import MODELS

from mmseg_infopro.models.utils import to_plain_model_cfg, to_plain_state_dict

CUDA = [
    pytest.mark.cuda,
    pytest.mark.skipif(
        not torch.cuda.is_available(), reason='needs a CUDA device')
]
#: Where a model can train.
PLACES = [
    pytest.param('cpu', torch.float64, id='cpu-float64'),
    pytest.param('cuda', torch.float32, id='cuda', marks=CUDA),
]
#: Where a model can be split and loaded, but not run (no data).
META = pytest.param('meta', torch.float32, id='meta')


def build(cfg, device='cpu', dtype=torch.float32):
    torch.manual_seed(0)
    model = MODELS.build(ConfigDict(cfg)).train()
    return model.to(device=device, dtype=dtype)


def assert_lives(module, device, dtype):
    tensors = list(module.parameters()) + list(module.buffers())
    assert tensors
    for t in tensors:
        assert t.device.type == device
        if t.is_floating_point():
            assert t.dtype == dtype


def optim_wrapper(model):
    return build_optim_wrapper(
        model,
        dict(
            constructor='InfoProOptimWrapperConstructor',
            optimizer=dict(
                type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4)))


@pytest.mark.parametrize('device, dtype', PLACES + [META])
def test_automatic_split_builds_the_heads_where_the_model_lives(
        model_cfg, device, dtype):
    reference = build(model_cfg(k=3))
    reference.ensure_split()
    points = reference.backbone.split_points
    model = build(model_cfg(k=3), device, dtype)
    twin = build(model_cfg(k=3), device, dtype)
    rng = torch.get_rng_state()
    model.ensure_split()
    # Measured on a CPU float32 copy: the same split wherever the model is,
    # and the measurement draws nothing from the run's random stream (only
    # the heads' initialisation does, as for an explicit split).
    assert model.backbone.split_points == points
    measured_rng = torch.get_rng_state()
    torch.set_rng_state(rng)
    twin._set_split(points)
    assert torch.equal(torch.get_rng_state(), measured_rng)
    assert len(model.local_heads) == 2
    assert_lives(model.local_heads, device, dtype)


@pytest.mark.slow  # several training steps
@pytest.mark.parametrize('device, dtype', PLACES)
def test_train_steps_through_the_optim_wrapper(model_cfg, batch, device,
                                               dtype):
    model = build(model_cfg(k=3), device, dtype)
    wrapper = optim_wrapper(model)  # measures the split first
    for seed in range(2):
        logs = model.train_step(batch(seed=seed), wrapper)
    assert logs['loss'].dtype == dtype and logs['loss'].device.type == device
    assert torch.isfinite(logs['loss'])
    assert 'local2.loss_recon' in logs
    assert_lives(model, device, dtype)


@pytest.mark.parametrize('device, dtype', PLACES + [META])
def test_checkpoint_split_builds_the_heads_where_the_model_lives(
        model_cfg, batch, tmp_path, device, dtype):
    trained = build(model_cfg(k=3, split_points=(3, 6)))
    path = str(tmp_path / 'k3.pth')
    torch.save(dict(state_dict=trained.state_dict()), path)
    model = build(model_cfg(k=3), device, dtype)
    # As the Runner loads load_from/resume: after moving the model.
    load_checkpoint(model, path, map_location='cpu')
    assert model.backbone.split_points == (3, 6)
    assert_lives(model.local_heads, device, dtype)
    if device == 'meta':
        return
    for (name, a), b in zip(model.state_dict().items(),
                            trained.state_dict().values()):
        torch.testing.assert_close(a.cpu(), b.to(a.dtype), msg=name)
    logs = model.train_step(batch(), optim_wrapper(model))
    assert torch.isfinite(logs['loss'])


@pytest.mark.parametrize('device, dtype', PLACES)
def test_export_predicts_the_same_where_the_model_lives(
        model_cfg, batch, device, dtype):
    cfg = model_cfg(k=2)
    model = build(cfg, device, dtype)
    model.train_step(batch(), optim_wrapper(model))
    plain = build(to_plain_model_cfg(cfg), device, dtype)
    plain.load_state_dict(to_plain_state_dict(model.state_dict()))  # strict
    model.eval(), plain.eval()
    data = model.data_preprocessor(batch(seed=1), False)
    with torch.no_grad():
        torch.testing.assert_close(
            model._forward(data['inputs']), plain._forward(data['inputs']))


def test_local_heads_follow_the_runners_sync_bn_changes(model_cfg, tmp_path):
    """mmengine converts BN to SyncBN for ``cfg.sync_bn`` (several
    processes) and reverts SyncBN in one process, before the split's heads
    exist; they get the same change."""

    def synced(module):
        """Whether every BN layer of ``module`` is SyncBN (None: no BN)."""
        kinds = {
            isinstance(m, nn.SyncBatchNorm)
            for m in module.modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm)
        }
        assert len(kinds) == 1
        return kinds.pop()

    converted = convert_sync_batchnorm(build(model_cfg(k=2)), 'torch')
    converted.ensure_split()
    assert synced(converted.local_heads)
    sync_cfg = model_cfg(k=2)
    for part in ('backbone', 'decode_head', 'auxiliary_head', 'local_head'):
        sync_cfg[part]['norm_cfg'] = dict(type='SyncBN')
    reverted = revert_sync_batchnorm(build(sync_cfg))
    reverted.ensure_split()
    assert not synced(reverted.local_heads)
    # The heads a checkpoint builds as well.
    path = str(tmp_path / 'k2.pth')
    torch.save(
        dict(state_dict=build(model_cfg(k=2,
                                        split_points=(5, ))).state_dict()),
        path)
    loaded = convert_sync_batchnorm(build(model_cfg(k=2)), 'torch')
    load_checkpoint(loaded, path)
    assert synced(loaded.local_heads)
    # Left as configured when nothing changed.
    kept = build(sync_cfg)
    kept.ensure_split()
    assert synced(kept.local_heads)
    plain = build(model_cfg(k=2))
    plain.ensure_split()
    assert not synced(plain.local_heads)
