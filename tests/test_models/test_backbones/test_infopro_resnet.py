import pytest
import torch
from mmseg.models.backbones import ResNetV1c
from mmseg.registry import MODELS

from mmseg_infopro.models import InfoProResNetV1c

D8 = dict(dilations=(1, 1, 2, 4), strides=(1, 2, 1, 1), contract_dilation=True)


@pytest.mark.parametrize('depth', [18, 50])
def test_same_state_dict_and_forward_as_resnetv1c(depth):
    torch.manual_seed(0)
    ours = InfoProResNetV1c(depth=depth, num_local_modules=3, **D8)
    plain = ResNetV1c(depth=depth, **D8)
    assert ours.state_dict().keys() == plain.state_dict().keys()
    # Weights go both ways with strict=True (pretrained in, export out).
    plain.load_state_dict(ours.state_dict(), strict=True)
    ours.load_state_dict(plain.state_dict(), strict=True)
    ours.eval(), plain.eval()
    x = torch.rand(1, 3, 64, 64)
    for a, b in zip(ours(x), plain(x)):
        torch.testing.assert_close(a, b)


def test_registered_in_mmseg_models():
    net = MODELS.build(
        dict(
            type='InfoProResNetV1c',
            depth=18,
            num_local_modules=2,
            split_points=(3, )))
    assert isinstance(net, InfoProResNetV1c)


def test_module_by_module_equals_forward():
    torch.manual_seed(0)
    net = InfoProResNetV1c(
        depth=18, num_local_modules=3, split_points=(2, 6), **D8)
    net.eval()  # mmseg's ResNet.train() returns None: no chaining
    assert net.module_ranges == [(0, 2), (2, 6), (6, 9)]
    x = torch.rand(2, 3, 64, 64)
    outs = {}
    h = x
    for m in range(3):
        h, stage_outs = net.forward_local_module(m, h)
        outs.update(stage_outs)
    expected = net(x)
    assert sorted(outs) == [0, 1, 2, 3]
    for s in range(4):
        torch.testing.assert_close(outs[s], expected[s])


@pytest.mark.parametrize('depth', [18, 50])
def test_element_channels_and_strides_match_real_shapes(depth):
    net = InfoProResNetV1c(
        depth=depth, num_local_modules=2, split_points=(1, ), **D8)
    net.eval()
    h = torch.rand(1, 3, 64, 128)
    for i in range(net.num_elements):
        h, _ = net.forward_elements(h, i, i + 1)
        stride = net.element_out_stride(i)
        assert h.shape[1] == net.element_out_channels(i)
        assert h.shape[2:] == (64 // stride, 128 // stride)


@pytest.mark.parametrize('kwargs, match', [
    (dict(num_local_modules=2, split_points=(0, )), 'out of range'),
    (dict(num_local_modules=2, split_points=(9, )), 'out of range'),
    (dict(num_local_modules=3, split_points=(5, 3)), 'strictly increasing'),
    (dict(num_local_modules=3, split_points=(4, 4)), 'strictly increasing'),
    (dict(num_local_modules=3, split_points=(4, )), 'needs 2'),
    (dict(num_local_modules=2, split_points=(2.5, )), 'must be ints'),
    (dict(num_local_modules=2, split_points=3), r'sequence of ints, e\.g\.'),
    (dict(num_local_modules=10), 'exceeds the 9 elements'),
    (dict(num_local_modules=0), '>= 1'),
])
def test_split_validation_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        InfoProResNetV1c(depth=18, **kwargs)


def test_k1_needs_no_split_and_auto_split_is_deferred():
    assert InfoProResNetV1c(
        depth=18, num_local_modules=1).module_ranges == [(0, 9)]
    net = InfoProResNetV1c(depth=18, num_local_modules=2)
    with pytest.raises(RuntimeError, match='split_points are not set'):
        net.module_ranges
