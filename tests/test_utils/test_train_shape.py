"""The batch shape of a training config and the one balance_shape rule
(mmseg_infopro.utils.train_shape), over wrapped datasets too."""
import copy

import pytest
from mmengine.config import Config

from mmseg_infopro.preflight import balance_shape_mismatch
from mmseg_infopro.utils import (DEFAULT_BALANCE_BATCH, balance_shape_of,
                                 iter_dataset_cfgs, leaf_dataset_cfgs,
                                 load_config, set_train_shape, train_crop,
                                 train_crop_transforms)

DEMO = ('configs/demo/'
        'deeplabv3-infopro_r18-d8_1xb4-300_synthetic-cityscapes-128x256.py')


def test_the_balance_shape_rule():
    assert balance_shape_of((4, 64, 96), (128, 256)) == (4, 64, 96)
    default = balance_shape_of(None, (128, 256))
    assert default == (DEFAULT_BALANCE_BATCH, 128, 256)
    assert balance_shape_of(None, None, (32, 48)) == (2, 32, 48)


def wrapped(cfg, kind):
    """The demo's train dataset inside a ConcatDataset of two, or a
    RepeatDataset."""
    inner = copy.deepcopy(cfg.train_dataloader.dataset)
    if kind == 'concat':
        return dict(
            type='ConcatDataset', datasets=[inner, copy.deepcopy(inner)])
    return dict(type='RepeatDataset', times=2, dataset=inner)


@pytest.mark.parametrize('kind', ['concat', 'repeat'])
def test_wrapped_datasets_keep_their_crop(repo_root, kind):
    """``--fit crop`` on a ConcatDataset config found "no crop_size": the
    crop's walk followed ``dataset`` only, the data checks'
    ``datasets`` too; both walk the same now."""
    cfg = load_config(f'{repo_root}/{DEMO}')
    cfg.train_dataloader.dataset = wrapped(cfg, kind)
    assert train_crop(cfg) == (128, 256)
    crops = train_crop_transforms(cfg)
    assert len(crops) == (2 if kind == 'concat' else 1)
    leaves = leaf_dataset_cfgs(cfg.train_dataloader.dataset)
    assert [name for name, _ in leaves] == (
        ['dataset.datasets[0]', 'dataset.datasets[1]']
        if kind == 'concat' else ['dataset.dataset'])
    assert [d['type'] for _, d in iter_dataset_cfgs(
        cfg.train_dataloader.dataset)][0] in ('ConcatDataset',
                                              'RepeatDataset')
    set_train_shape(cfg, 6, (160, 320))
    assert all(t['crop_size'] == (160, 320)
               for t in train_crop_transforms(cfg))
    assert cfg.train_dataloader.batch_size == 6
    assert tuple(cfg.model.balance_shape) == (6, 160, 320)
    assert tuple(cfg.model.data_preprocessor.size) == (160, 320)


def test_the_warning_reads_the_rule_the_model_uses(repo_root):
    """Without ``balance_shape`` the split balances 2 images of
    ``data_preprocessor.size`` (as the model does), whatever the pipeline
    crops; the warning compares that with what trains."""
    cfg = load_config(f'{repo_root}/{DEMO}')
    cfg.model.pop('balance_shape')
    cfg.train_dataloader.batch_size = 2
    assert balance_shape_mismatch(cfg) is None  # 2 x 128x256 both
    cfg.model.data_preprocessor.size = (192, 384)  # pads the crops
    warning = balance_shape_mismatch(cfg)
    assert '(2, 192, 384)' in warning and 'trains (2, 128, 256)' in warning


def test_an_e2e_config_trains_the_shape_without_a_balance_shape():
    cfg = Config(
        dict(
            model=dict(
                type='EncoderDecoder', data_preprocessor=dict(size=(8, 8))),
            train_dataloader=dict(
                batch_size=1,
                dataset=dict(pipeline=[dict(type='RandomCrop',
                                            crop_size=(8, 8))]))))
    set_train_shape(cfg, 3, (16, 24))
    assert 'balance_shape' not in cfg.model
    assert train_crop(cfg) == (16, 24) and cfg.train_dataloader.batch_size == 3
