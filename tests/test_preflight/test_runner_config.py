import os.path as osp

import pytest

from mmseg_infopro.preflight import balance_shape_mismatch, load_runner_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MAIN = osp.join(REPO, 'configs', 'deeplabv3_infopro_cityscapes.py')


def test_shipped_config_balances_the_batch_it_trains():
    assert balance_shape_mismatch(load_runner_config(MAIN)) is None


@pytest.mark.parametrize('options, trained', [
    ({
        'train_dataloader.batch_size': 8
    }, (8, 512, 1024)),
    ({
        'train_dataloader.dataset.pipeline.3.crop_size': (768, 768)
    }, (4, 768, 768)),
    ({
        'model.balance_shape': None
    }, (4, 512, 1024)),
])
def test_batch_or_crop_override_alone_is_reported(options, trained):
    warning = balance_shape_mismatch(load_runner_config(MAIN, options))
    assert f'model.balance_shape={trained}' in warning


def test_the_crop_is_the_pipelines_not_the_padding():
    """data_preprocessor.size only pads: the crop trained is RandomCrop's."""
    cfg = load_runner_config(MAIN, {'model.data_preprocessor.size': (4, 4)})
    assert balance_shape_mismatch(cfg) is None
    cfg = load_runner_config(MAIN, {'model.balance_shape': (4, 4, 4)})
    assert 'model.balance_shape=(4, 512, 1024)' in balance_shape_mismatch(cfg)


@pytest.mark.parametrize('options', [
    {
        'model.backbone.split_points': (21, )
    },
    {
        'model.backbone.num_local_modules': 1
    },
])
def test_no_automatic_split_no_warning(options):
    cfg = load_runner_config(MAIN, {
        'train_dataloader.batch_size': 8,
        **options
    })
    assert balance_shape_mismatch(cfg) is None


def test_launcher_pytorch_outside_torchrun_names_the_launchers(monkeypatch):
    monkeypatch.delenv('RANK', raising=False)
    with pytest.raises(ValueError, match='tools/dist_train.sh'):
        load_runner_config(MAIN, launcher='pytorch')


def test_no_workers_no_persistent_workers():
    cfg = load_runner_config(MAIN, {'val_dataloader.num_workers': 0})
    assert cfg.val_dataloader.persistent_workers is False
    assert cfg.train_dataloader.persistent_workers is True
