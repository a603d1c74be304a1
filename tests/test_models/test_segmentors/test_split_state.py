"""SplitStateMixin (models/segmentors/split_state.py), through the
segmentor that uses it: the loss-weight schedule of the local heads, the
automatic split (valid, measured only for training, side-effect free), and
the checkpoint contract, including a checkpoint written before the unit was
split out of the segmentor."""
import copy
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.optim import OptimWrapper
from mmengine.runner import load_checkpoint
from mmseg.registry import MODELS

from mmseg_infopro.models import InfoProEncoderDecoder
from mmseg_infopro.models.utils import to_plain_state_dict

DATA = osp.join(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))),
                'data')


def build(cfg):
    torch.manual_seed(0)
    return MODELS.build(ConfigDict(cfg)).train()


def sgd(model, lr=0.01):
    return OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9))


def test_a_checkpoint_of_an_earlier_version_loads_and_predicts_the_same(
        batch):
    """Written by ae4166f (the segmentor before this unit was split out):
    a tiny K = 2 model, automatic split (8,), one training step, with its
    config and the logits it predicted on ``batch(seed=1)``."""
    (path, ) = glob.glob(osp.join(DATA, 'infopro_k2_tiny_*.pth'))
    old = torch.load(path, weights_only=True)
    model = MODELS.build(copy.deepcopy(old['model_cfg']))
    assert not model.split_decided  # automatic, not measured
    model.load_state_dict(old['state_dict'])  # strict: every key as before
    assert model.backbone.split_points == (8, )
    assert model.state_dict().keys() == old['state_dict'].keys()
    model.eval()
    data = model.data_preprocessor(batch(seed=1), False)
    with torch.no_grad():
        torch.testing.assert_close(model._forward(data['inputs']),
                                   old['logits'])


def test_loss_weights_follow_the_linear_schedule(model_cfg):
    model = build(
        model_cfg(
            k=4,
            split_points=(2, 4, 6),
            loss_recon_weight=(1.0, 3.0),
            loss_task_weight=(1.0, 0.0)))
    assert [h.loss_recon_weight for h in model.local_heads] == [1.0, 2.0, 3.0]
    assert [h.loss_task_weight for h in model.local_heads] == [1.0, 0.5, 0.0]
    assert model.local_heads[2].task_head is None
    # K = 2 has a single local module: a pair would drop "last".
    k2 = build(model_cfg(k=2, split_points=(5, ), loss_recon_weight=(2, 2)))
    assert k2.local_heads[0].loss_recon_weight == 2.0
    with pytest.raises(ValueError, match='single local module'):
        build(model_cfg(k=2, split_points=(5, ), loss_recon_weight=(1, 3)))


def test_official_cifar_schedule_for_k4(model_cfg):
    """The official CIFAR code's K = 4 InfoPro schedule, (λ1, λ2) from
    (1, 0) to (0, 1): ratio (i - 1) / (K - 2) at local module i."""
    model = build(
        model_cfg(
            k=4,
            split_points=(2, 4, 6),
            loss_recon_weight=(1.0, 0.0),
            loss_task_weight=(0.0, 1.0)))
    assert [(h.loss_recon_weight, h.loss_task_weight)
            for h in model.local_heads] == [(1.0, 0.0), (0.5, 0.5),
                                            (0.0, 1.0)]
    assert model.local_heads[0].task_head is None
    assert model.local_heads[2].recon_head is None


def test_auto_split_is_valid_deterministic_and_side_effect_free(model_cfg):
    torch.manual_seed(0)
    cfg = model_cfg(k=3)
    a = MODELS.build(cfg)
    b = MODELS.build(cfg)
    a.ensure_split(), b.ensure_split()
    assert a.backbone.split_points == b.backbone.split_points
    assert len(a.backbone.split_points) == 2
    # Profiling ran on a copy: BN statistics are still the initial ones.
    for name, buf in a.named_buffers():
        if name.endswith('running_mean'):
            assert not buf.any(), name


def test_auto_split_spends_the_tolerance_on_cheaper_local_heads(model_cfg):

    def plan(tolerance):
        cfg = model_cfg(k=4)
        cfg.update(
            split_memory_tolerance=tolerance, balance_shape=(8, 256, 512))
        planner = MODELS.build(cfg).split_planner()
        chosen = planner.plan()
        flops = sum(planner._local_head(p - 1)[2]
                    for p in chosen.split_points)
        return chosen, flops

    # R-18-D8 at 8 x 256 x 512: the most balanced split puts local heads on
    # 256- and 512-channel stride-8 features; a 10 % tolerance buys
    # narrower ones, an unlimited one the cheapest.
    (balanced, b), (tenth, t), (anything, a) = (plan(tol)
                                                for tol in (0.0, 0.1, 100.0))
    assert b > t > a
    assert balanced.peak <= tenth.peak <= 1.1 * balanced.peak
    assert anything.peak > 1.1 * balanced.peak


@pytest.mark.slow  # several training steps
def test_automatic_split_is_measured_only_for_training(
        model_cfg, batch, monkeypatch):
    model = build(model_cfg(k=3))
    assert not model.split_decided and len(model.local_heads) == 0
    assert model.state_dict()['local_heads._extra_state'].numel() == 0
    measured = []
    planner = InfoProEncoderDecoder.split_planner
    monkeypatch.setattr(InfoProEncoderDecoder, 'split_planner',
                        lambda *a: measured.append(1) or planner(*a))
    model.eval()
    model.test_step(batch())  # inference: no local head, no measurement
    assert not measured and not model.split_decided
    model.train()
    # An optimizer built before the split misses the local heads: stop.
    with pytest.raises(RuntimeError, match='ensure_split'):
        model.train_step(batch(), sgd(model))
    assert measured == [1] and len(model.local_heads) == 2
    model.train_step(batch(), sgd(model))  # built after: trains
    assert measured == [1]


def test_checkpoint_split_wins_over_an_unmeasured_automatic_split(
        model_cfg, tmp_path, monkeypatch):
    trained = build(model_cfg(k=3, split_points=(3, 6)))
    path = str(tmp_path / 'k3.pth')
    torch.save(dict(state_dict=trained.state_dict()), path)
    monkeypatch.setattr(InfoProEncoderDecoder, 'split_planner',
                        lambda *a: pytest.fail('measured'))
    auto = build(model_cfg(k=3))
    load_checkpoint(auto, path)  # as init_model and tools/test.py do
    assert auto.backbone.split_points == (3, 6)
    for (name, a), b in zip(auto.state_dict().items(),
                            trained.state_dict().values()):
        assert torch.equal(a, b), name
    # A checkpoint of another K cannot set the split: refused, not measured.
    with pytest.raises(ValueError, match=r'split_points=\(3, 6\)'):
        load_checkpoint(build(model_cfg(k=2)), path)


def test_checkpoint_of_another_split_is_refused(model_cfg, tmp_path):
    path = str(tmp_path / 'k3.pth')
    torch.save(
        dict(
            state_dict=build(model_cfg(k=3, split_points=(3,
                                                          6))).state_dict()),
        path)
    # mmengine's loader, as in resume, load_from and init_model.
    same = load_checkpoint(build(model_cfg(k=3, split_points=(3, 6))), path)
    assert same['state_dict']['local_heads._extra_state'].tolist() == [3, 6]
    # Element 6 has the shapes of element 5 (both layer3 of R-18): the
    # heads would load without a word, trained on other features.
    moved = build(model_cfg(k=3, split_points=(3, 7)))
    with pytest.raises(ValueError, match=r'split_points=\(3, 6\)'):
        load_checkpoint(moved, path)
    # The way out the error names: the plain export has no local heads.
    plain = str(tmp_path / 'plain.pth')
    state = torch.load(path)['state_dict']
    torch.save(dict(state_dict=to_plain_state_dict(state)), plain)
    load_checkpoint(moved, plain)
    torch.testing.assert_close(
        moved.backbone.state_dict(), {
            k[len('backbone.'):]: v
            for k, v in state.items() if k.startswith('backbone.')
        })
