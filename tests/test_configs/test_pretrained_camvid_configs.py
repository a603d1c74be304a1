"""The CamVid configs of the pretrained regime (ImageNet EfficientNet-Lite0),
as shipped, on a small batch without the weights file: InfoPro K = 2 keeps
gradients inside its modules and trains its local head; with K = 1 (and
activation checkpointing or not) it is the plain mmseg model (TIMMBackbone),
same losses from the same weights."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mmseg_infopro.models.utils import to_plain_model_cfg

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
K2 = osp.join(REPO, 'configs', 'camvid',
              'deeplabv3plus-infopro-k2_efficientnet-lite0-d16_1xb8-1000_'
              'camvid-256x352.py')


def model_cfg(**backbone):
    cfg = Config.fromfile(K2).model
    cfg.backbone.init_cfg = None  # no weights file in the tests
    cfg.backbone.update(backbone)
    cfg.data_preprocessor.size = (64, 96)
    cfg.balance_shape = (2, 64, 96)
    return cfg


def batch(seed=0):
    """Two 64x96 CamVid-like samples (11 classes)."""
    gen = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(2):
        label = torch.randint(0, 11, (1, 64, 96), generator=gen)
        samples.append(
            SegDataSample(
                gt_sem_seg=PixelData(data=label),
                metainfo=dict(img_shape=(64, 96), ori_shape=(64, 96))))
    inputs = [
        torch.randint(0, 256, (3, 64, 96), generator=gen, dtype=torch.uint8)
        for _ in range(2)
    ]
    return dict(inputs=inputs, data_samples=samples)


def build(cfg):
    torch.manual_seed(0)
    return MODELS.build(copy.deepcopy(cfg)).train()


def test_k2_isolates_gradients_and_trains_its_local_head():
    model = build(model_cfg(split_points=(8, )))
    data = model.data_preprocessor(batch(), True)
    losses = model.loss(data['inputs'], data['data_samples'])
    assert {'local1.loss_recon', 'local1.task.loss_ce', 'decode.loss_ce'} \
        <= set(losses)
    module1 = [
        p for i in range(8) for p in model.backbone.element_parameters(i)
    ]
    # The last module's loss reaches no parameter of module 1 ...
    losses['decode.loss_ce'].backward(retain_graph=True)
    assert all(p.grad is None or not p.grad.any() for p in module1)
    # ... the local loss trains module 1 and its head.
    (losses['local1.loss_recon'] + losses['local1.task.loss_ce']).backward()
    assert all(p.grad is not None and p.grad.any()
               for p in model.local_heads[0].parameters() if p.dim() > 1)
    assert any(p.grad is not None and p.grad.any() for p in module1)


@pytest.mark.parametrize('with_cp', [False, True])
def test_k1_gives_the_plain_mmseg_losses_from_the_same_weights(with_cp):
    """With activation checkpointing too: the export drops ``with_cp``
    (mmseg's TIMMBackbone has none) and the losses stay the same."""
    # The K = 2 config at K = 1.
    cfg = model_cfg(num_local_modules=1, with_cp=with_cp)
    ours = build(cfg)
    assert ours.backbone.with_cp == with_cp
    plain = build(to_plain_model_cfg(cfg))
    assert 'with_cp' not in to_plain_model_cfg(cfg)['backbone']
    assert type(ours).__name__ == 'InfoProEncoderDecoder'
    assert type(plain).__name__ == 'EncoderDecoder'
    assert type(plain.backbone).__name__ == 'TIMMBackbone'
    plain.load_state_dict(ours.state_dict())  # strict
    logs = []
    for m in (ours, plain):
        torch.manual_seed(1)  # the decode head's dropout draws the same
        logs.append(
            m.train_step(batch(),
                         OptimWrapper(torch.optim.SGD(m.parameters(),
                                                      lr=0.01))))
    assert set(logs[0]) == set(logs[1])
    for key in logs[1]:
        torch.testing.assert_close(logs[0][key], logs[1][key], msg=key)
