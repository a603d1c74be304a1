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
def test_a_backbone_without_with_cp_is_not_given_it(spec):
    cfg = build_case_config(LITE0, parse_case(spec), 4, (64, 128))
    assert 'with_cp' not in cfg.model.backbone
    assert tuple(cfg.model.data_preprocessor.size) == (64, 128)


def test_checkpointing_reaches_a_backbone_that_has_it():
    cfg = build_case_config(R18, parse_case('e2e+cp'), 4, (64, 128))
    assert cfg.model.backbone.with_cp is True
    assert cfg.model.type == 'EncoderDecoder'
