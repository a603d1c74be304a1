import torch

from mmseg_infopro.models.utils import saved_activation_bytes


def test_counts_saved_activations_once_and_skips_excluded():
    conv = torch.nn.Conv2d(4, 8, 3, padding=1, bias=False)
    x = torch.rand(2, 4, 16, 16, requires_grad=True)
    # conv saves its input and its weight.
    both = saved_activation_bytes(lambda: conv(x))
    acts = saved_activation_bytes(lambda: conv(x), exclude=conv.parameters())
    assert acts == x.numel() * 4
    assert both == acts + conv.weight.numel() * 4
    # Saving the same tensor twice counts once.
    assert saved_activation_bytes(lambda: x * x) == x.numel() * 4


def test_scales_with_pixels():
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8),
        torch.nn.ReLU())
    small = saved_activation_bytes(lambda: net(torch.rand(2, 3, 8, 8)),
                                   net.parameters())
    big = saved_activation_bytes(lambda: net(torch.rand(2, 3, 16, 16)),
                                 net.parameters())
    # per-channel statistics of BN do not scale
    assert 3.9 * small < big <= 4 * small
