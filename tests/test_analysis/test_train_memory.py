"""The configs of the benchmark and fit cases (mmseg_infopro.analysis)."""
import os.path as osp

import pytest

from mmseg_infopro.analysis import build_case_config, parse_case

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
LITE0 = osp.join(REPO, 'configs', 'camvid',
                 'deeplabv3plus-infopro-k2_efficientnet-lite0-d16_1xb8-1000_'
                 'camvid-256x352.py')
R18 = osp.join(REPO, 'configs', 'camvid',
               'deeplabv3-infopro-k2_r18w32-d16_1xb8-600_camvid-176x240.py')


@pytest.mark.parametrize('spec', ['e2e', 'k2'])
def test_without_cp_the_case_keeps_the_backbone_as_configured(spec):
    cfg = build_case_config(LITE0, parse_case(spec), 4, (64, 128))
    assert not cfg.model.backbone.get('with_cp')
    assert tuple(cfg.model.data_preprocessor.size) == (64, 128)
    # E2E is mmseg's own model (timm: TIMMBackbone, which has no with_cp).
    if spec == 'e2e':
        assert cfg.model.backbone.type == 'TIMMBackbone'
        assert 'with_cp' not in cfg.model.backbone


@pytest.mark.parametrize('config, spec', [(R18, 'e2e+cp'), (LITE0, 'e2e+cp'),
                                          (LITE0, 'k2+cp')])
def test_checkpointing_reaches_every_backbone_family(config, spec):
    """ResNet's mmseg class has ``with_cp``; timm's is InfoProTIMMBackbone's
    (at K = 1 under mmseg's EncoderDecoder for E2E)."""
    cfg = build_case_config(config, parse_case(spec), 4, (64, 128))
    assert cfg.model.backbone.with_cp is True
    if spec == 'e2e+cp':
        assert cfg.model.type == 'EncoderDecoder'
        assert cfg.model.backbone.get('num_local_modules', 1) == 1


@pytest.mark.parametrize('spec', ['e2e+cp', 'k2+cp'])
def test_checkpointed_timm_cases_build(spec):
    """E2E with checkpointing is mmseg's EncoderDecoder, which takes no
    ``balance_shape`` (only the InfoPro segmentor does)."""
    from mmseg.registry import MODELS
    cfg = build_case_config(LITE0, parse_case(spec), 4, (64, 96))
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert model.backbone.with_cp
    assert ('balance_shape' in cfg.model) == (spec == 'k2+cp')
