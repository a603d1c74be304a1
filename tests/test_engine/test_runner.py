"""InfoProRunner: ``cfg.sync_bn`` with several processes keeps the
activation of timm's norm + activation layers (mmengine's converter made
them plain SyncBatchNorm, dropping it), here through the wrapper of a
one-rank gloo group on the CPU."""
import pytest
import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.config import Config
from timm.layers import BatchNormAct2d, SyncBatchNormAct

from mmseg_infopro.engine import InfoProRunner
from mmseg_infopro.models import InfoProTIMMBackbone
from mmseg_infopro.models.utils import (convert_sync_batchnorm,
                                        revert_sync_batchnorm)
from mmseg_infopro.utils import ConfigError


def lite0():
    torch.manual_seed(0)
    return InfoProTIMMBackbone(
        model_name='tf_efficientnet_lite0', out_indices=(1, 4),
        output_stride=16, num_local_modules=1).eval()


def acts(model):
    """The activations of the model's norm layers (ReLU6 in Lite0)."""
    return [
        type(m.act).__name__ for m in model.modules()
        if isinstance(m, nn.modules.batchnorm._BatchNorm)
        and hasattr(m, 'act')
    ]


def test_conversion_keeps_norm_activations_both_ways():
    x = torch.rand(1, 3, 32, 32)
    model = lite0()
    want, before = model(x), acts(model)
    assert 'ReLU6' in before
    synced = convert_sync_batchnorm(model)
    assert any(isinstance(m, SyncBatchNormAct) for m in synced.modules())
    assert acts(synced) == before
    for got, ref in zip(synced(x), want):  # eval: running statistics
        torch.testing.assert_close(got, ref)
    back = revert_sync_batchnorm(synced)
    assert not any(isinstance(m, nn.SyncBatchNorm) for m in back.modules())
    assert any(isinstance(m, BatchNormAct2d) for m in back.modules())
    for got, ref in zip(back(x), want):
        torch.testing.assert_close(got, ref)
    with pytest.raises(ConfigError, match="sync_bn='torch'"):
        convert_sync_batchnorm(lite0(), 'mmcv')


def test_the_runner_wraps_with_the_activations_kept():
    dist.init_process_group(
        'gloo', store=dist.HashStore(), rank=0, world_size=1)
    try:
        runner = object.__new__(InfoProRunner)  # what wrap_model reads
        runner.cfg = Config(dict(sync_bn='torch'))
        runner._distributed = True
        model = lite0()
        before, x = acts(model), torch.rand(1, 3, 32, 32)
        want = model(x)
        wrapped = runner.wrap_model(
            dict(type='mmseg.InfoProDistributedDataParallel'), model)
        # On the CPU the wrapper turns SyncBN back to per-process BN.
        assert acts(wrapped.module) == before
        for got, ref in zip(wrapped.module(x), want):
            torch.testing.assert_close(got, ref)
        assert runner.cfg.sync_bn == 'torch'  # as configured, dumped so
    finally:
        dist.destroy_process_group()
