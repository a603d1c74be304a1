"""Every supported backbone family under every supported decode head family:
DeepLab-V3, PSPNet and DeepLabV3+ on ResNetV1c, UPerNet on ResNetV1d,
DeepLab-V3 on ResNeXt and ResNeSt, SegFormer on MiT, DeepLab-V3 on timm's
EfficientNet-Lite0 (random weights) (tiny widths, 64x128).

For each: K = 1 is the plain mmseg model (losses and gradients), no gradient
crosses a module boundary, the automatic split is valid and trains, and the
export to plain mmseg loads strictly and predicts identically.
"""
import copy

import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.optim import OptimWrapper
from mmseg.registry import MODELS

from mmseg_infopro.models.utils import to_plain_model_cfg, to_plain_state_dict

NORM = dict(type='BN', requires_grad=True)
D8 = dict(
    out_indices=(0, 1, 2, 3),
    dilations=(1, 1, 2, 4),
    strides=(1, 2, 1, 1),
    contract_dilation=True,
    norm_cfg=NORM)
FCN_AUX = dict(
    type='FCNHead',
    in_channels=256,
    in_index=2,
    channels=8,
    num_convs=1,
    concat_input=False,
    num_classes=19,
    norm_cfg=NORM,
    loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4))


def _head(type, **kwargs):
    return dict(
        type=type, channels=8, num_classes=19, norm_cfg=NORM, **kwargs)


ASPP = _head(
    'ASPPHead', in_channels=512, in_index=3, dilations=(1, 12, 24, 36))
FAMILIES = {
    'deeplabv3_r18v1c':
    (dict(type='InfoProResNetV1c', depth=18, **D8), ASPP, FCN_AUX),
    'pspnet_r18v1c': (dict(type='InfoProResNetV1c', depth=18, **D8),
                      _head(
                          'PSPHead',
                          in_channels=512,
                          in_index=3,
                          pool_scales=(1, 2, 3, 6)), FCN_AUX),
    'deeplabv3plus_r18v1c':
    (dict(type='InfoProResNetV1c', depth=18, **D8),
     _head(
         'DepthwiseSeparableASPPHead',
         in_channels=512,
         in_index=3,
         dilations=(1, 12, 24, 36),
         c1_in_channels=64,
         c1_channels=8), FCN_AUX),
    'upernet_r18v1d': (dict(
        type='InfoProResNetV1d',
        depth=18,
        out_indices=(0, 1, 2, 3),
        norm_cfg=NORM),
                       _head(
                           'UPerHead',
                           in_channels=[64, 128, 256, 512],
                           in_index=[0, 1, 2, 3],
                           pool_scales=(1, 2, 3, 6)), FCN_AUX),
    'deeplabv3_x50': (dict(
        type='InfoProResNeXt',
        depth=50,
        groups=4,
        base_width=4,
        base_channels=16,
        **D8), dict(ASPP, in_channels=512), dict(FCN_AUX, in_channels=256)),
    'deeplabv3_s50':
    (dict(
        type='InfoProResNeSt',
        depth=50,
        stem_channels=16,
        base_channels=16,
        radix=2,
        reduction_factor=4,
        avg_down_stride=True,
        **D8), dict(ASPP, in_channels=512), dict(FCN_AUX, in_channels=256)),
    'segformer_mit':
    (dict(
        type='InfoProMixVisionTransformer',
        embed_dims=8,
        num_heads=[1, 2, 2, 4],
        num_layers=[1, 1, 2, 1],
        sr_ratios=[8, 4, 2, 1],
        out_indices=(0, 1, 2, 3)),
     _head(
         'SegformerHead', in_channels=[8, 16, 16, 32],
         in_index=[0, 1, 2, 3]), None),
    'deeplabv3_efficientnet_lite0': (dict(
        type='InfoProTIMMBackbone',
        model_name='tf_efficientnet_lite0',
        out_indices=(1, 2, 3, 4),
        output_stride=8), dict(ASPP, in_channels=320),
                                     dict(FCN_AUX, in_channels=112)),
}


def model_cfg(family, k, split_points=None):
    backbone, decode_head, aux = copy.deepcopy(FAMILIES[family])
    backbone.update(num_local_modules=k, split_points=split_points)
    cfg = dict(
        type='InfoProEncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            size=(64, 128)),
        backbone=backbone,
        decode_head=dict(decode_head, dropout_ratio=0.0),
        local_head=dict(
            type='InfoProHead',
            num_classes=19,
            norm_cfg=NORM,
            task_head=dict(channels=8, dropout_ratio=0.0),
            recon_channels=(8, 4, 4)),
        test_cfg=dict(mode='whole'))
    if aux is not None:
        cfg['auxiliary_head'] = dict(aux, dropout_ratio=0.0)
    return ConfigDict(cfg)


def even_split(family, k):
    """K - 1 evenly spaced split points (measuring one takes longer)."""
    backbone = MODELS.build(dict(FAMILIES[family][0], num_local_modules=1))
    n = backbone.num_elements
    return tuple(n * i // k for i in range(1, k))


def build(cfg):
    torch.manual_seed(0)
    return MODELS.build(copy.deepcopy(cfg)).train()


def sgd(model):
    return OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))


@pytest.mark.parametrize('family', FAMILIES)
def test_k1_is_the_plain_mmseg_model(family, batch):
    cfg = model_cfg(family, 1)
    ours, plain = build(cfg), build(to_plain_model_cfg(cfg))
    assert type(plain.backbone).__name__ == cfg.backbone.type[len('InfoPro'):]
    assert ours.state_dict().keys() == plain.state_dict().keys()
    plain.load_state_dict(ours.state_dict())
    logs = [m.train_step(batch(), sgd(m)) for m in (ours, plain)]
    for key in logs[1]:
        torch.testing.assert_close(logs[0][key], logs[1][key], msg=key)
    for (name, a), b in zip(ours.named_parameters(), plain.parameters()):
        torch.testing.assert_close(a, b, msg=name)


@pytest.mark.parametrize('family', FAMILIES)
def test_no_gradient_crosses_a_module_boundary(family, batch):
    model = build(model_cfg(family, 3, even_split(family, 3)))
    bb = model.backbone
    data = model.data_preprocessor(batch(), True)
    for module in range(2):
        model.zero_grad()
        losses = model.loss(data['inputs'], data['data_samples'])
        later = sum(
            v for key, v in losses.items() if 'loss' in key and not any(
                key.startswith(f'local{j + 1}.') for j in range(module + 1)))
        later.backward()
        start, stop = bb.module_ranges[module]
        earlier = [
            p for i in range(stop) for p in bb.element_parameters(i)
        ] + list(model.local_heads[module].parameters())
        assert all(p.grad is None or not p.grad.any() for p in earlier)
        # ... while the next module does get gradients.
        nxt = bb.module_ranges[module + 1]
        assert any(p.grad is not None and p.grad.any()
                   for i in range(*nxt) for p in bb.element_parameters(i))


@pytest.mark.parametrize('family', FAMILIES)
def test_automatic_split_is_valid_and_trains(family, batch):
    # In float64, as a model the Runner moved before the split is measured:
    # whatever the split builds must follow it (a CPU stand-in for a GPU).
    model = build(model_cfg(family, 2)).double()
    model.ensure_split()
    (point, ) = model.backbone.split_points
    assert 1 <= point < model.backbone.num_elements
    assert all(p.dtype == torch.float64
               for p in model.local_heads.parameters())
    logs = model.train_step(batch(), sgd(model))
    assert torch.isfinite(logs['loss']) and 'local1.loss_recon' in logs
    assert logs['loss'].dtype == torch.float64


@pytest.mark.parametrize('family', FAMILIES)
def test_export_loads_strictly_and_predicts_the_same(family, batch):
    cfg = model_cfg(family, 2, even_split(family, 2))
    model = build(cfg).double()
    model.train_step(batch(), sgd(model))
    plain = MODELS.build(to_plain_model_cfg(cfg)).double()
    plain.load_state_dict(to_plain_state_dict(model.state_dict()))  # strict
    model.eval(), plain.eval()
    data = model.data_preprocessor(batch(seed=1), False)
    torch.testing.assert_close(
        model._forward(data['inputs']), plain._forward(data['inputs']))
