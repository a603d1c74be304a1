"""The batch and crop chosen for a memory budget, applied to a config and
recorded (mmseg_infopro.memory_budget); the search's trials stand in for by
a memory model (``search_choice(trial=...)``)."""
import os.path as osp

import pytest

from mmseg_infopro.memory_budget import (BudgetError, apply_choice,
                                         read_choice, search_choice,
                                         write_choice)
from mmseg_infopro.utils import load_config, train_crop

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(
    REPO, 'configs/demo/'
    'deeplabv3-infopro_r18-d8_1xb4-300_synthetic-cityscapes-128x256.py')


class Seen(list):
    """The configs the trials trained; ``trial`` is the stand-in step: 20
    MB + 10 MB per 128x256 image (K = 2; twice that per image for K =
    1)."""

    def trial(self, config, spec, batch, crop, device, **kwargs):
        cfg = load_config(config)
        self.append(cfg)
        k = cfg.model.backbone.get('num_local_modules', 1)
        per_image = 10 if k > 1 else 20
        mb = 20 + per_image * batch * crop[0] * crop[1] / (128 * 256)
        return dict(
            case=spec, batch=batch, crop=list(crop), fits=True, peak_mb=mb)


@pytest.fixture
def seen():
    return Seen()


def test_the_choice_follows_the_model_the_config_trains(seen):
    cfg = load_config(DEMO)
    k2 = search_choice(cfg, '120MB', margin=0, device='cpu', trial=seen.trial)
    # The trials train this config (its split settings, K, AMP...).
    assert seen and all(c.model.type == 'InfoProEncoderDecoder' for c in seen)
    assert (k2['batch'], k2['crop']) == (10, [128, 256])
    assert k2['next']['batch'] == 11 and k2['peak_mb'] == 120
    assert k2['configured'] == dict(batch=4, crop=[128, 256])
    cfg.model.backbone.num_local_modules = 1
    e2e = search_choice(cfg, '120MB', margin=0, device='cpu', trial=seen.trial)
    assert e2e['batch'] == 5 < k2['batch']


def test_fit_crop_keeps_the_batch(seen):
    cfg = load_config(DEMO)
    choice = search_choice(cfg, '120MB', fit='crop', margin=0, device='cpu',
                           trial=seen.trial)
    # 100 MB of 10 MB per 128x256 at 4 images: 2.5 x the pixels, 192x384.
    assert choice['batch'] == 4 and choice['crop'] == [192, 384]


def test_nothing_fits_says_what_was_measured_and_what_helps(seen):
    cfg = load_config(DEMO)
    with pytest.raises(BudgetError) as e:
        search_choice(cfg, '25MB', margin=0.1, device='cpu', trial=seen.trial)
    message = str(e.value)
    assert 'not even batch 1 at 128x256 fits (30 MB measured, 22 MB ' \
        'allowed' in message
    assert 'num_local_modules=4' in message and '--amp' in message
    assert '\n' not in message
    cfg.train_dataloader.dataset.pipeline = [
        t for t in cfg.train_dataloader.dataset.pipeline
        if t['type'] != 'RandomCrop'
    ]
    with pytest.raises(BudgetError, match='no crop_size'):
        search_choice(cfg, '1GB', fit='crop', device='cpu', trial=seen.trial)
    with pytest.raises(ValueError, match="'lots'"):
        search_choice(cfg, 'lots', device='cpu', trial=seen.trial)


def test_apply_choice_sets_everything_that_depends_on_it():
    cfg = load_config(DEMO)
    apply_choice(cfg, dict(batch=6, crop=[192, 384], budget='1GB'))
    assert cfg.train_dataloader.batch_size == 6
    assert train_crop(cfg) == (192, 384)
    assert tuple(cfg.model.data_preprocessor.size) == (192, 384)
    assert tuple(cfg.model.balance_shape) == (6, 192, 384)
    # The config's own variables read true in the dumped config.
    assert tuple(cfg.crop_size) == (192, 384)
    assert [t['crop_size'] for t in cfg.train_pipeline
            if 'crop_size' in t] == [(192, 384)]
    assert cfg.memory_budget['batch'] == 6


def test_record_round_trip(tmp_path):
    write_choice(str(tmp_path / 'w'), dict(batch=3))
    assert read_choice(str(tmp_path / 'w')) == dict(batch=3)
    write_choice(str(tmp_path / 'w'), None)
    assert read_choice(str(tmp_path / 'w')) is None


def test_a_plain_mmseg_config_is_searched_too(seen):
    """mmseg's own EncoderDecoder: no planner, no balance_shape."""
    from mmengine.config import ConfigDict

    from mmseg_infopro.models.utils import to_plain_model_cfg
    cfg = load_config(DEMO)
    cfg.model = ConfigDict(to_plain_model_cfg(cfg.model))
    choice = search_choice(cfg, '120MB', margin=0, device='cpu',
                           trial=seen.trial)
    assert seen[-1].model.type == 'EncoderDecoder'
    assert choice['batch'] == 5
    apply_choice(cfg, choice)
    assert 'balance_shape' not in cfg.model


def test_an_e2e_config_with_an_infopro_backbone_gets_no_balance_shape():
    """The E2E Lite0 recipes: mmseg's EncoderDecoder over the InfoPro timm
    backbone at K = 1. Only a segmentor that balances a split takes
    ``balance_shape`` (the check was the backbone's K, and mmseg's
    EncoderDecoder refused the key)."""
    cfg = load_config(
        osp.join(
            REPO, 'configs/camvid/deeplabv3plus_efficientnet-lite0-d16_'
            '1xb8-1000_camvid-256x352.py'))
    assert cfg.model.type == 'EncoderDecoder'
    apply_choice(cfg, dict(batch=4, crop=[128, 160], budget='1GB'))
    assert 'balance_shape' not in cfg.model
    assert cfg.train_dataloader.batch_size == 4


def test_the_ranks_agree_however_long_or_badly_rank_0_searches(torchrun):
    """The other ranks wait on a gloo group of their own (they outlast the
    default group's 5 s timeout here, NCCL's 10 minutes on a GPU), and any
    error of rank 0's search is every rank's same one-line error."""
    worker = osp.join(osp.dirname(__file__), 'agree_worker.py')
    proc = torchrun(2, worker)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = sorted(line for line in proc.stdout.splitlines()
                   if line.startswith(('slow', 'fails')))
    slow = [line for line in lines if line.startswith('slow')]
    assert slow == ['slow rank 0: batch 3', 'slow rank 1: batch 3']
    failed = {line.split(': ', 1)[1] for line in lines
              if line.startswith('fails')}
    assert len(lines) == 4 and len(failed) == 1
    assert "KeyError: 'no such trial'" in failed.pop()


def test_a_multi_process_run_is_searched_with_its_wrapper(seen):
    """Trials of a ``--launcher`` run measure its step under the
    distributed wrapper (its gradient buckets), not the bare model's."""
    calls = []

    def trial(*args, **kwargs):
        calls.append(kwargs.get('distributed'))
        return seen.trial(*args, **kwargs)

    cfg = load_config(DEMO)
    search_choice(cfg, '120MB', margin=0, device='cpu', trial=trial)
    assert calls and not any(calls)
    calls.clear()
    cfg.launcher = 'pytorch'
    search_choice(cfg, '120MB', margin=0, device='cpu', trial=trial)
    assert calls and all(calls)
