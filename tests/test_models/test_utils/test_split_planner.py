"""The split planner: its memory model against the exact peaks of a toy
backbone, and its independence of everything but shapes and the model."""
import time

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import ConfigDict
from mmengine.optim import OptimWrapper
from mmseg.registry import MODELS

from mmseg_infopro.models.backbones import LocalModulesMixin
from mmseg_infopro.models.utils import (AllocationTracker, SplitPlanner,
                                        peak_allocated_bytes, split_by_cost)

WIDTH = 8


@MODELS.register_module(force=True)
class ToyElementsBackbone(LocalModulesMixin, nn.Module):
    """Test-only: ``num_elements`` elements ``relu(conv1x1(x))`` of
    ``WIDTH`` channels at stride 1, two per stage.

    Each element saves exactly its input (the convolution) and its output
    (the ReLU), both of one size t: so a module of n elements keeps n + 1
    such tensors alive, its input and output included, and nothing else.
    """

    def __init__(self,
                 num_elements: int = 6,
                 num_local_modules: int = 2,
                 split_points=None) -> None:
        super().__init__()
        self.convs = nn.ModuleList(
            nn.Conv2d(3 if i == 0 else WIDTH, WIDTH, 1)
            for i in range(num_elements))
        self.out_indices = tuple(range((num_elements + 1) // 2))
        self._init_local_modules(num_local_modules, split_points)

    def _element_names(self):
        return [(f'convs.{i}', i // 2) for i in range(len(self.convs))]

    def _run_element(self, index, x):
        return F.relu(self.convs[index](x))

    def element_out_channels(self, index):
        return WIDTH

    def element_out_stride(self, index):
        return 1

    def element_parameters(self, index):
        return self.convs[index].parameters()

    def forward(self, x):
        outs = []
        for i in range(len(self.convs)):
            x = self._run_element(i, x)
            if self._stage_end(i) is not None:
                outs.append(x)
        return tuple(outs)


def toy_cfg(k=2, split_points=None, num_elements=6):
    norm = dict(type='BN', requires_grad=True)
    return ConfigDict(
        type='InfoProEncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            size=(32, 64)),
        backbone=dict(
            type='ToyElementsBackbone',
            num_elements=num_elements,
            num_local_modules=k,
            split_points=split_points),
        decode_head=dict(
            type='FCNHead',
            in_channels=WIDTH,
            in_index=-1,
            channels=WIDTH,
            num_convs=0,
            concat_input=False,
            dropout_ratio=0,
            num_classes=19,
            norm_cfg=norm),
        local_head=dict(
            type='InfoProHead',
            num_classes=19,
            norm_cfg=norm,
            task_head=dict(channels=4, dropout_ratio=0),
            recon_channels=(4, )),
        test_cfg=dict(mode='whole'))


def exact_module_peaks(model, batch):
    """Peak bytes allocated during each module of a real ``train_step``
    (from its forward to the end of its backward), following every tensor
    until it is freed; earlier modules' gradients and kept tensors count as
    they are alive."""
    tracker = AllocationTracker()
    peaks = []
    module_loss, backward_module = model.module_loss, model.backward_module

    def tracked_loss(*args, **kwargs):
        tracker.peak = tracker.live  # a new peak from here
        return module_loss(*args, **kwargs)

    def tracked_backward(*args, **kwargs):
        backward_module(*args, **kwargs)
        peaks.append(tracker.peak)

    model.module_loss, model.backward_module = tracked_loss, tracked_backward
    optim = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    data = model.data_preprocessor(batch, True)
    with tracker:
        model.forward_backward(data, optim)
    return peaks


@pytest.mark.parametrize('k, split', [(2, (3, )), (2, (5, )), (3, (2, 4))])
def test_model_matches_the_exact_peaks_of_a_toy(batch, k, split):
    torch.manual_seed(0)
    model = MODELS.build(toy_cfg(k, split)).train()
    n, h, w = 2, 32, 64
    plan = model.split_planner().plan(split)
    # Known by construction: the module's input (the image of module 1 is
    # counted with the inputs) and the output of each of its elements, of
    # one size, counted once each (the old per-element sum counted 2 per
    # element, and the final heads' input once more).
    t = n * WIDTH * h * w * 4
    for module in plan.modules:
        tensors = module.stop - module.start + (module.start > 0)
        assert module.activations == tensors * t
    # And the whole model against the real training step, measured
    # exactly (no kernel workspaces on this toy): within 10 % per module.
    measured = exact_module_peaks(model, batch(n, h, w))
    for module, peak in zip(plan.modules, measured):
        assert module.total == pytest.approx(peak, rel=0.1), (module, peak)


def test_the_split_balances_the_exact_peaks(batch):
    """The automatic split is as good as the best split by the exact peaks,
    up to the model's error (the heads dominate this toy: the best and the
    second best split differ by 7 %)."""
    plan = MODELS.build(toy_cfg(2)).split_planner().plan()
    worst = {}
    for point in range(1, 6):
        torch.manual_seed(0)
        model = MODELS.build(toy_cfg(2, (point, ))).train()
        worst[point] = max(exact_module_peaks(model, batch(2, 32, 64)))
    best = min(worst.values())
    assert worst[plan.split_points[0]] <= 1.1 * best, (plan, worst)


def test_stage_outputs_kept_for_the_final_heads_are_counted_once():
    cfg = toy_cfg(3, (2, 4))
    cfg.decode_head.update(
        in_index=[0, 1, 2],
        input_transform='resize_concat',
        in_channels=[WIDTH] * 3,
        channels=3 * WIDTH)
    model = MODELS.build(cfg)
    plan = model.split_planner().plan((2, 4))
    t = 2 * WIDTH * 32 * 64 * 4
    # Stage 0 ends at element 1 (the input of module 2), stage 1 at
    # element 3 (the input of module 3): each is kept where it is not the
    # module input.
    assert [m.kept for m in plan.modules] == [0, 0, t]


def test_depends_only_on_shapes_and_the_model(monkeypatch):
    """No timing, no free memory, no weights, no thread count, no random
    state: the same config plans the same split on any machine."""

    torch.manual_seed(0)
    models = [MODELS.build(toy_cfg(3)) for _ in range(3)]  # other weights
    models[2].double()
    reference = models[0].split_planner().plan()
    rng = torch.get_rng_state()

    # A clock that jumps by hours between reads: a planner that timed
    # anything would decide differently.
    ticks = iter(range(10**9))

    def jumpy_clock():
        return 3600.0 * next(ticks)**1.5

    for name in ('time', 'perf_counter', 'monotonic', 'process_time'):
        monkeypatch.setattr(time, name, jumpy_clock)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        others = [model.split_planner().plan() for model in models[1:]]
    finally:
        torch.set_num_threads(threads)
        monkeypatch.undo()
    assert others == [reference, reference]
    assert torch.equal(torch.get_rng_state(), rng)


def test_split_by_cost_is_exact_for_any_module_cost():
    import itertools
    import random
    rng = random.Random(0)
    for _ in range(20):
        n, k = rng.randint(2, 8), rng.randint(1, 4)
        k = min(k, n)
        table = {(a, b): rng.random()
                 for a in range(n) for b in range(a + 1, n + 1)}

        def cost(a, b, last):
            return table[a, b]

        points = split_by_cost(n, k, cost)
        best = min(
            max(table[a, b] for a, b in zip((0, ) + p, p + (n, )))
            for p in itertools.combinations(range(1, n), k - 1))
        got = (0, ) + points + (n, )
        assert max(table[a, b] for a, b in zip(got[:-1], got[1:])) == best


def test_bad_arguments():
    model = MODELS.build(toy_cfg(2))
    planner = model.split_planner()
    for key, value, match in (('balance_shape', (2, 32), 'balance_shape'),
                              ('profile_size', (0, 8), 'profile_size'),
                              ('tolerance', -1, 'tolerance')):
        kwargs = dict(
            backbone=planner.backbone,
            build_local_head=planner.build_local_head,
            final_heads_loss=planner.final_heads_loss,
            final_head_params=planner.final_head_params,
            final_stages=planner.final_stages,
            num_modules=2,
            balance_shape=(2, 32, 64))
        kwargs[key] = value
        with pytest.raises(ValueError, match=match):
            SplitPlanner(**kwargs)


def test_peak_allocated_bytes_follows_frees():
    x = torch.rand(4, 1024, requires_grad=True)
    y_bytes = x.numel() * 4
    # 2 * x lives until the sum is taken; then x.grad is made.
    assert peak_allocated_bytes(
        lambda: (2 * x).sum().backward()) < 2 * y_bytes + 1024
    x.grad = None
    keep = []
    assert peak_allocated_bytes(
        lambda: keep.append(2 * x) or keep.append(3 * x)) >= 2 * y_bytes
