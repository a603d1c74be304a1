import torch

from mmseg_infopro.models.utils import (AllocationTracker,
                                        peak_allocated_bytes, saved_storages)


def saved_bytes(fn, exclude=()):
    return sum(saved_storages(fn, exclude).values())


def test_counts_saved_activations_once_and_skips_excluded():
    conv = torch.nn.Conv2d(4, 8, 3, padding=1, bias=False)
    x = torch.rand(2, 4, 16, 16, requires_grad=True)
    # conv saves its input and its weight.
    both = saved_bytes(lambda: conv(x))
    acts = saved_bytes(lambda: conv(x), exclude=conv.parameters())
    assert acts == x.numel() * 4
    assert both == acts + conv.weight.numel() * 4
    # Saving the same tensor twice counts once.
    assert saved_bytes(lambda: x * x) == x.numel() * 4


def test_tensors_of_a_dropped_graph_are_not_counted():
    x = torch.rand(2, 4, 16, 16, requires_grad=True)

    def forward():
        (x * 3).exp()  # a graph nobody keeps: freed before the count
        return x.sigmoid()  # saves its output, kept

    assert saved_bytes(forward) == x.numel() * 4


def test_scales_with_pixels():
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1), torch.nn.BatchNorm2d(8),
        torch.nn.ReLU())
    small = saved_bytes(lambda: net(torch.rand(2, 3, 8, 8)),
                        net.parameters())
    big = saved_bytes(lambda: net(torch.rand(2, 3, 16, 16)),
                      net.parameters())
    # per-channel statistics of BN do not scale
    assert 3.9 * small < big <= 4 * small


def test_allocation_tracker_follows_frees():
    size = 1024 * 4
    x = torch.rand(1024, requires_grad=True)
    with AllocationTracker() as tracker:
        a = 2 * x
        b = a + 1
        del a
        assert tracker.live == size and tracker.peak == 2 * size
        tracker.peak = tracker.live  # a new peak from here
        b.sum().backward()
    assert tracker.live == 2 * size  # b and x.grad
    assert tracker.peak <= 3 * size
    x.grad = None
    # 2 * x lives until the sum is taken; then x.grad is made.
    assert size <= peak_allocated_bytes(
        lambda: (2 * x).sum().backward()) < 2 * size
