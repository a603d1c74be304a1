import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mmseg_infopro.models import InfoProHead, ReconstructionDecoder

MEAN = [123.675, 116.28, 103.53]
STD = [58.395, 57.12, 57.375]


def build(**kwargs):
    cfg = dict(
        type='InfoProHead',
        in_channels=32,
        in_stride=8,
        num_classes=19,
        mean=MEAN,
        std=STD,
        task_head=dict(channels=16),
        recon_channels=(16, 8, 4))
    cfg.update(kwargs)
    return MODELS.build(cfg)


def test_losses_weighted_and_both_branches_get_gradients(batch):
    torch.manual_seed(0)
    data = batch()
    feat = torch.rand(2, 32, 8, 16, requires_grad=True)
    images = torch.rand(2, 3, 64, 128)
    head = build(loss_recon_weight=2.0, loss_task_weight=0.5)
    losses = head.loss(feat, images, data['data_samples'])
    assert set(losses) == {'task.loss_ce', 'task.acc_seg', 'loss_recon'}
    unweighted = build(loss_recon_weight=1.0, loss_task_weight=1.0)
    unweighted.load_state_dict(head.state_dict())
    head.eval(), unweighted.eval()  # no dropout: comparable losses
    a = head.loss(feat, images, data['data_samples'])
    b = unweighted.loss(feat, images, data['data_samples'])
    torch.testing.assert_close(a['loss_recon'], 2.0 * b['loss_recon'])
    torch.testing.assert_close(a['task.loss_ce'], 0.5 * b['task.loss_ce'])
    (a['loss_recon'] + a['task.loss_ce']).backward()
    for name, p in head.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert feat.grad.abs().sum() > 0


def test_zero_weight_branch_is_not_built():
    greedy = build(loss_recon_weight=0.0)
    assert greedy.recon_head is None and greedy.task_head is not None
    recon_only = build(loss_task_weight=0.0)
    assert recon_only.task_head is None and recon_only.recon_head is not None
    with pytest.raises(ValueError, match='never be trained'):
        build(loss_recon_weight=0.0, loss_task_weight=0.0)
    with pytest.raises(ValueError, match='>= 0'):
        build(loss_recon_weight=-1.0)


def test_reconstruction_target_undoes_the_preprocessor():
    head = build()
    pixels = torch.randint(0, 256, (1, 3, 4, 4)).float()
    normalised = (pixels - torch.tensor(MEAN).view(1, 3, 1, 1)) / \
        torch.tensor(STD).view(1, 3, 1, 1)
    torch.testing.assert_close(
        head.reconstruction_target(normalised), pixels / 255.0)
    # mean/std are the preprocessor's: not duplicated in checkpoints.
    assert 'mean' not in head.state_dict() and 'std' not in head.state_dict()


@pytest.mark.parametrize('stride, ups', [(4, 2), (8, 3), (16, 4)])
def test_decoder_upsampling_follows_the_stride(stride, ups):
    dec = ReconstructionDecoder(8, stride, channels=(16, 8, 4))
    assert sum(s.bit_length() - 1 for s in dec.scales) == ups
    out = dec(torch.rand(2, 8, 64 // stride, 128 // stride))
    assert out.shape == (2, 3, 64, 128)
    # A size that is not a multiple of the stride is resized to the input.
    assert dec(
        torch.rand(1, 8, 5, 9), out_size=(37, 70)).shape == (1, 3, 37, 70)


def test_decoder_matches_the_paper_at_stride_8():
    dec = ReconstructionDecoder(1024, 8)
    convs = [s.conv for s in dec.stages] + [dec.conv_out]
    assert [(c.in_channels, c.out_channels, c.kernel_size[0])
            for c in convs] == [(1024, 128, 1), (128, 32, 3), (32, 12, 3),
                                (12, 3, 3)]
    assert dec.scales == [2, 2, 2]


def test_decoder_computes_conv_norm_relu_and_upsampling_in_order():
    """Whatever memory layout the decoder runs in (channels-last on the
    CPU), it computes its stages, ×2 steps and output conv, nothing else:
    the same logits and input gradient as the layers one by one."""
    torch.manual_seed(0)
    dec = ReconstructionDecoder(16, 16, channels=(8, 6, 4)).train()
    x = torch.rand(2, 16, 4, 6, dtype=torch.float64, requires_grad=True)
    dec.double()
    got = dec(x)
    grad, = torch.autograd.grad(got.square().sum(), x)
    y = x
    for stage, scale in zip(dec.stages, dec.scales):
        y = F.interpolate(
            stage(y), scale_factor=scale, mode='bilinear',
            align_corners=False)
    want = dec.conv_out(y)
    torch.testing.assert_close(got, want)
    torch.testing.assert_close(
        grad, torch.autograd.grad(want.square().sum(), x)[0])


def test_decoder_rejects_bad_stride():
    with pytest.raises(ValueError, match='power of two'):
        ReconstructionDecoder(8, 6)


def test_is_registered_class():
    assert isinstance(build(), InfoProHead)


def test_task_loss_is_a_mean_over_labelled_pixels(batch):
    """The official local loss is nn.CrossEntropyLoss(ignore_index=255)."""
    torch.manual_seed(0)
    samples = batch()['data_samples']
    for sample in samples:  # most of the crop is padding / unlabelled
        sample.gt_sem_seg.data[:, :48] = 255
    feat = torch.rand(2, 32, 8, 16)
    head = build(loss_recon_weight=0.0, loss_task_weight=0.7).eval()
    loss = head.loss(feat, torch.rand(2, 3, 64, 128), samples)
    logits = torch.nn.functional.interpolate(
        head.task_head([feat]), size=(64, 128), mode="bilinear")
    labels = torch.cat([s.gt_sem_seg.data for s in samples])
    expected = torch.nn.functional.cross_entropy(
        logits, labels, ignore_index=255)
    torch.testing.assert_close(loss['task.loss_ce'], 0.7 * expected)


def test_init_weights_reaches_the_task_head():
    head = build()
    head.init_weights()
    conv_seg = head.task_head.conv_seg
    # FCNHead's own init: Normal(0, 0.01) weights, zero bias.
    assert conv_seg.weight.std() < 0.02 and conv_seg.bias.abs().max() == 0
    custom = build(
        init_cfg=dict(type='Constant', val=0.5, bias=0.0, layer='Conv2d'),
        task_head=dict(channels=16, init_cfg=None))
    custom.init_weights()
    assert torch.all(custom.task_head.conv_seg.weight == 0.5)
    assert torch.all(custom.recon_head.conv_out.weight == 0.5)
