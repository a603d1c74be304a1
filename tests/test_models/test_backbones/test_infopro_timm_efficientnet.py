"""InfoProTIMMBackbone: timm's EfficientNet-builder models as elements
(random weights; Lite0 and a narrow MobileNetV3, whose stem keeps its
activation apart)."""
import pytest
import torch
from mmseg.models.backbones import TIMMBackbone

from mmseg_infopro.models import InfoProTIMMBackbone
from mmseg_infopro.models.utils import ConfigError

MODELS = {
    'tf_efficientnet_lite0': dict(out_indices=(1, 2, 3, 4)),
    'mobilenetv3_small_050': dict(out_indices=(0, 1, 2, 3, 4)),
}


@pytest.mark.parametrize('name', MODELS)
@pytest.mark.parametrize('output_stride', [8, 32])
def test_elements_are_the_timm_forward(name, output_stride):
    kwargs = dict(model_name=name, output_stride=output_stride,
                  **MODELS[name])
    torch.manual_seed(0)
    ours = InfoProTIMMBackbone(num_local_modules=1, **kwargs).eval()
    plain = TIMMBackbone(pretrained=False, **kwargs).eval()
    assert ours.state_dict().keys() == plain.state_dict().keys()
    plain.load_state_dict(ours.state_dict())
    x = torch.rand(2, 3, 64, 96)
    out, stage_outs = ours.forward_elements(x, 0, ours.num_elements)
    expected = plain(x)
    assert sorted(stage_outs) == list(ours.out_indices)
    for got, want in zip([stage_outs[s] for s in ours.out_indices],
                         expected):
        torch.testing.assert_close(got, want)
    # Every element states the channels and stride of what it outputs, and
    # owns its parameters (together: all of them, once).
    y, owned = x, []
    for i in range(ours.num_elements):
        y = ours._run_element(i, y)
        assert y.shape[1] == ours.element_out_channels(i)
        assert 64 // y.shape[2] == ours.element_out_stride(i)
        owned += [id(p) for p in ours.element_parameters(i)]
    assert sorted(owned) == sorted(id(p) for p in ours.parameters())


def test_lite0_elements_and_stages():
    net = InfoProTIMMBackbone(
        model_name='tf_efficientnet_lite0', out_indices=(1, 2, 3, 4),
        output_stride=16, split_points=(6, ))
    assert net.num_elements == 17  # stem + 16 blocks
    assert net.elements[:3] == [('stem', -1), ('blocks.0.0', 0),
                                ('blocks.1.0', 1)]
    # The 80- and 112-channel stacks are one feature level (stride 16).
    assert [s for _, s in net.elements].count(3) == 3 + 3
    assert net.element_out_stride(16) == 16  # dilated, not 32
    assert net.module_ranges == [(0, 6), (6, 17)]


@pytest.mark.parametrize('kwargs, message', [
    (dict(model_name='resnet18'), "timm's EfficientNet builder"),
    (dict(model_name='tf_efficientnet_lite0', feature_location='expansion'),
     'feature_location'),
    (dict(model_name='tf_efficientnet_lite0', features_only=False),
     'features_only'),
])
def test_other_timm_models_are_refused_by_name(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        InfoProTIMMBackbone(**kwargs)
