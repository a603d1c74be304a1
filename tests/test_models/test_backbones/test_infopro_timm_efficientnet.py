"""InfoProTIMMBackbone: timm's EfficientNet-builder models as elements
(random weights; Lite0 and a narrow MobileNetV3, whose stem keeps its
activation apart)."""
import pytest
import torch
from mmseg.models.backbones import TIMMBackbone

from mmseg_infopro.models import InfoProTIMMBackbone
from mmseg_infopro.utils import ConfigError

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


@pytest.mark.parametrize('num_local_modules', [1, 2])
def test_with_cp_keeps_outputs_and_gradients(num_local_modules):
    """Checkpointing recomputes, it does not change the result: the same
    outputs and parameter gradients, end to end (timm's forward) and module
    by module (the elements InfoPro runs), at less saved memory."""
    from mmseg_infopro.models.utils import saved_storages

    kwargs = dict(model_name='tf_efficientnet_lite0', out_indices=(1, 4),
                  output_stride=16, num_local_modules=num_local_modules,
                  split_points=(6, ) if num_local_modules == 2 else None,
                  drop_path_rate=0.1)  # replayed masks, not new ones
    torch.manual_seed(0)
    plain = InfoProTIMMBackbone(**kwargs).train()
    cp = InfoProTIMMBackbone(with_cp=True, **kwargs).train()
    cp.load_state_dict(plain.state_dict())
    x = torch.rand(2, 3, 64, 96)

    def forward(net):
        if num_local_modules == 1:
            return net(x)
        # Module 2 on module 1's detached output, as InfoPro trains.
        h, first = net.forward_local_module(0, x)
        _, second = net.forward_local_module(1, h.detach())
        return [first[1], second[4], h]

    def run(net, seed=1):
        torch.manual_seed(seed)
        net.zero_grad()
        outs = forward(net)
        sum(o.square().mean() for o in outs).backward()
        return outs, {n: p.grad.clone() for n, p in net.named_parameters()}

    outs, grads = run(plain)
    outs_cp, grads_cp = run(cp)
    for got, want in zip(outs_cp, outs):
        torch.testing.assert_close(got, want)
    assert grads_cp.keys() == grads.keys()
    for name, grad in grads.items():
        torch.testing.assert_close(grads_cp[name], grad, msg=name)
    # Autograd saves nothing inside the elements (checkpoint holds their
    # inputs): the saved activations all but vanish (tools/analysis/
    # benchmark_memory.py measures the step's peak: docs/benchmarks.md).
    saved = [
        sum(saved_storages(lambda: forward(net), net.parameters()).values())
        for net in (plain, cp)
    ]
    assert saved[1] < 0.1 * saved[0], saved
    # In eval mode (and without grad) the forward is timm's own. (BN
    # running statistics differ: recomputation updates them again.)
    cp.load_state_dict(plain.state_dict())
    cp.eval()
    with torch.no_grad():
        for got, want in zip(cp(x), plain.eval()(x)):
            torch.testing.assert_close(got, want)
