"""Device, dtype and SyncBN of modules built after construction."""
import pytest
import torch
import torch.nn as nn

from mmseg_infopro.models.utils import (cpu_copy, device_and_dtype,
                                        match_sync_bn, sync_bn_implementation)


def net():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU())


def test_device_and_dtype():
    assert device_and_dtype(net().double()) == (torch.device('cpu'),
                                                torch.float64)
    assert device_and_dtype(net().to('meta'))[0].type == 'meta'
    assert device_and_dtype(nn.ReLU()) == (torch.device('cpu'),
                                           torch.float32)


@pytest.mark.parametrize('device, dtype', [('cpu', torch.float64),
                                           ('meta', torch.float32)])
def test_cpu_copy_is_float32_on_the_cpu_and_shares_nothing(device, dtype):
    model = net().to(device=device, dtype=dtype)
    copy = cpu_copy(model)
    for t in list(copy.parameters()) + list(copy.buffers()):
        assert t.device.type == 'cpu'
        assert t.dtype == (torch.float32
                           if t.is_floating_point() else torch.long)
    assert isinstance(copy[0].weight, nn.Parameter)
    copy.train()(torch.rand(2, 3, 8, 8))  # updates the copy's BN statistics
    if device == 'cpu':
        assert not model[1].running_mean.any()
        torch.testing.assert_close(copy[0].weight,
                                   model[0].weight.float())
    else:
        assert not copy[0].weight.any()  # no data on meta: zeros


def test_sync_bn_changes_are_matched():
    built = sync_bn_implementation(net())
    assert built is None
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(net())
    assert sync_bn_implementation(converted) == 'torch'
    # Heads excluded: what the rest of the model went through counts.
    holder = nn.ModuleDict(dict(rest=net(), heads=converted))
    assert sync_bn_implementation(holder, exclude=holder['heads']) is None
    head = match_sync_bn(net(), built, 'torch')
    assert isinstance(head[1], nn.SyncBatchNorm)
    head = match_sync_bn(head, 'torch', None)
    assert type(head[1]) is not nn.SyncBatchNorm
    assert isinstance(head[1], nn.modules.batchnorm._BatchNorm)
    same = net()
    assert match_sync_bn(same, 'torch', 'torch') is same
