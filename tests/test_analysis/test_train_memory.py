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
def test_without_cp_the_case_keeps_the_backbone_as_configured(spec):
    cfg = build_case_config(LITE0, parse_case(spec), 4, (64, 128))
    assert not cfg.model.backbone.get('with_cp')
    assert tuple(cfg.model.data_preprocessor.size) == (64, 128)
    # E2E is mmseg's own model (timm: TIMMBackbone, which has no with_cp).
    if spec == 'e2e':
        assert cfg.model.backbone.type == 'TIMMBackbone'
        assert 'with_cp' not in cfg.model.backbone


@pytest.mark.parametrize('config, spec', [(R18, 'e2e+cp'), (LITE0, 'e2e+cp'),
                                          (LITE0, 'k2+cp')])
def test_checkpointing_reaches_every_backbone_family(config, spec):
    """ResNet's mmseg class has ``with_cp``; timm's is InfoProTIMMBackbone's
    (at K = 1 under mmseg's EncoderDecoder for E2E)."""
    cfg = build_case_config(config, parse_case(spec), 4, (64, 128))
    assert cfg.model.backbone.with_cp is True
    if spec == 'e2e+cp':
        assert cfg.model.type == 'EncoderDecoder'
        assert cfg.model.backbone.get('num_local_modules', 1) == 1


@pytest.mark.parametrize('spec', ['e2e+cp', 'k2+cp'])
def test_checkpointed_timm_cases_build(spec):
    """E2E with checkpointing is mmseg's EncoderDecoder, which takes no
    ``balance_shape`` (only the InfoPro segmentor does)."""
    from mmseg.registry import MODELS
    cfg = build_case_config(LITE0, parse_case(spec), 4, (64, 96))
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert model.backbone.with_cp
    assert ('balance_shape' in cfg.model) == (spec == 'k2+cp')


# ----------------------------------------------------------------------
# What only a GPU shows, with stand-ins on the CPU
# ----------------------------------------------------------------------
DEMO = osp.join(REPO, 'configs', 'demo',
                'deeplabv3-infopro_r18-d8_1xb4-300_synthetic-cityscapes-'
                '128x256.py')


class StopHere(Exception):
    """Raised by a stand-in where the test has seen what it needs."""


def test_an_unindexed_cuda_device_is_pinned_for_the_memory_cap(monkeypatch):
    """``fit.py --device cuda`` passed torch.device('cuda'), which torch's
    set_per_process_memory_fraction refuses: every trial died."""
    import torch

    import mmseg_infopro.analysis.train_memory as train_memory
    seen = {}

    def set_fraction(fraction, device):
        if device.index is None:  # as torch says it
            raise ValueError('Expected a torch.device with a specified index '
                             'or an integer, but got:cuda')
        seen.update(fraction=fraction, device=device)

    monkeypatch.setattr(torch.cuda, 'current_device', lambda: 0)
    monkeypatch.setattr(torch.cuda, 'set_device', lambda device: None)
    monkeypatch.setattr(torch.cuda, 'set_per_process_memory_fraction',
                        set_fraction)

    def build_case(*args, **kwargs):
        raise StopHere

    monkeypatch.setattr(train_memory, 'build_case', build_case)
    with pytest.raises(StopHere):
        train_memory.measure_case(
            DEMO, 'k2', 2, (64, 128), device='cuda', memory_fraction=0.5)
    assert seen == dict(fraction=0.5, device=torch.device('cuda', 0))


@pytest.mark.parametrize('message, fits', [
    ('cuDNN error: CUDNN_STATUS_ALLOC_FAILED', False),
    ('Unable to find a valid cuDNN algorithm to run convolution', False),
    ('CUDA error: CUBLAS_STATUS_ALLOC_FAILED when calling cublasCreate',
     False),
    ('mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)', None),
])
def test_cudnn_and_cublas_running_out_is_a_trial_that_does_not_fit(
        monkeypatch, capsys, message, fits):
    """Near the limit cuDNN/cuBLAS report running out as a RuntimeError: a
    search probing above the limit stopped there. Other errors stay
    errors."""
    import json
    import sys

    import mmseg_infopro.analysis.train_memory as train_memory

    def measure_case(*args, **kwargs):
        raise RuntimeError(message)

    monkeypatch.setattr(train_memory, 'measure_case', measure_case)
    job = dict(config=DEMO, spec='k2', batch=8, crop=[64, 128],
               device='cuda:0', iters=1, warmup=1, cfg_options=[],
               memory_fraction=0.5)
    monkeypatch.setattr(sys, 'argv', ['train_memory', json.dumps(job)])
    if fits is None:
        with pytest.raises(RuntimeError, match='shapes'):
            train_memory._main()
        return
    train_memory._main()
    out = capsys.readouterr().out
    result = json.loads(out.split(train_memory.RESULT_TAG, 1)[1])
    assert result['fits'] is False and result['batch'] == 8


def test_warm_up_until_amp_has_stepped(monkeypatch):
    """AMP's loss scaler skips the optimizer step while the loss overflows
    at its first, large scales: with 1 warm-up and 1 timed step neither
    stepped, the optimizer state never existed and the peak missed it."""
    import torch
    from mmengine.config import ConfigDict

    import mmseg_infopro.analysis.train_memory as train_memory
    from mmseg_infopro.analysis import Case

    class Scaler:
        def __init__(self, overflows):
            self.scale, self.overflows = 65536.0, overflows

        def get_scale(self):
            return self.scale

    class Wrapper:
        """An AMP optim wrapper whose first two steps overflow."""

        def __init__(self, model):
            self.optimizer = torch.optim.SGD(
                model.parameters(), lr=0.1, momentum=0.9)
            self.loss_scaler = Scaler(overflows=2)
            self.state_sizes = []

    class Model(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.backbone = torch.nn.Linear(4, 4)

        def train_step(self, data, wrapper):
            self.backbone(torch.ones(1, 4)).sum().backward()
            scaler = wrapper.loss_scaler
            if scaler.overflows:  # inf gradients: no step, a lower scale
                scaler.overflows -= 1
                scaler.scale /= 2
            else:
                wrapper.optimizer.step()
            wrapper.optimizer.zero_grad()
            wrapper.state_sizes.append(len(wrapper.optimizer.state))

    model = Model()
    wrapper = Wrapper(model)
    case = Case(dict(name='k2+amp', k=2, amp=True), ConfigDict(
        model=dict(backbone=dict())), model, wrapper, {},
        torch.device('cpu'), model)
    monkeypatch.setattr(train_memory, 'build_case', lambda *a, **k: case)
    result = train_memory.measure_case(
        DEMO, 'k2+amp', 2, (64, 128), iters=1, warmup=1)
    assert result['warmup_steps'] == 3
    # The timed step runs with the optimizer's state in place.
    assert wrapper.state_sizes[-1] > 0


@pytest.mark.parametrize('benchmark', [True, False])
def test_cases_take_cudnns_autotuner_from_the_config(benchmark):
    """cuDNN's benchmark mode chooses other algorithms (and workspaces):
    trials run with the config's env_cfg.cudnn_benchmark, as training."""
    import torch

    from mmseg_infopro.analysis import build_case
    before = torch.backends.cudnn.benchmark
    try:
        torch.backends.cudnn.benchmark = not benchmark
        build_case(DEMO, 'k2', 2, (64, 128), cfg_options={
            'env_cfg.cudnn_benchmark': benchmark})
        assert torch.backends.cudnn.benchmark is benchmark
    finally:
        torch.backends.cudnn.benchmark = before


def test_a_multi_process_step_is_measured_under_its_wrapper():
    """A multi-process training steps through its wrapper (gradient
    buckets): the trial of such a run does too, in a one-rank group."""
    import torch.distributed as dist

    from mmseg_infopro.analysis import build_case, measure_case
    from mmseg_infopro.engine import InfoProDistributedDataParallel
    try:
        case = build_case(DEMO, 'k2', 2, (64, 128), distributed=True)
        assert isinstance(case.trained, InfoProDistributedDataParallel)
        assert case.trained.module is case.model
        result = measure_case(DEMO, 'k2', 2, (64, 128), iters=1, warmup=1,
                              distributed=True)
        assert result['distributed'] and result['peak_mb'] > 0
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
