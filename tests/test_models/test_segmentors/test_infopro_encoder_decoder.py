import contextlib
import copy

import pytest
import torch
from mmengine.config import ConfigDict
from mmengine.optim import OptimWrapper
from mmseg.registry import MODELS, OPTIM_WRAPPERS

from mmseg_infopro.models import InfoProEncoderDecoder


def build(cfg):
    torch.manual_seed(0)
    return MODELS.build(ConfigDict(cfg)).train()


def sgd(model, lr=0.01, **kwargs):
    return OptimWrapper(
        torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9), **kwargs)


def grads(model):
    return {
        n: p.grad.clone()
        for n, p in model.named_parameters() if p.grad is not None
    }


def module_param_names(model, module):
    """Parameters of backbone module ``module`` and of its local head."""
    bb = model.backbone
    start, stop = bb.module_ranges[module]
    prefixes = []
    for i in range(start, stop):
        name = bb.elements[i][0]
        prefixes += ['backbone.stem.'] if name == 'stem' else \
            [f'backbone.{name}.']
    if module < len(model.local_heads):
        prefixes.append(f'local_heads.{module}.')
    return [
        n for n, _ in model.named_parameters() if any(
            n.startswith(p) for p in prefixes)
    ]


@pytest.mark.slow  # several training steps
def test_k1_is_exactly_encoder_decoder(model_cfg, make_e2e_cfg, batch):
    cfg = model_cfg(k=1)
    ours = build(cfg)
    plain = build(make_e2e_cfg(cfg))
    assert len(ours.local_heads) == 0
    assert ours.state_dict().keys() == plain.state_dict().keys()
    plain.load_state_dict(ours.state_dict())
    wrappers = [sgd(ours), sgd(plain)]
    for step in range(2):
        logs = []
        for model, wrapper in zip((ours, plain), wrappers):
            torch.manual_seed(step)  # same dropout masks
            logs.append(model.train_step(batch(seed=step), wrapper))
        assert logs[0].keys() == logs[1].keys()
        for key in logs[0]:
            torch.testing.assert_close(logs[0][key], logs[1][key])
    for (n, a), b in zip(ours.state_dict().items(),
                         plain.state_dict().values()):
        torch.testing.assert_close(a, b, msg=n)


@pytest.mark.parametrize('k, split', [(2, (5, )), (3, (3, 6)), (4, None)])
def test_no_gradient_crosses_a_module_boundary(model_cfg, batch, k, split):
    model = build(model_cfg(k=k, split_points=split))
    data = model.data_preprocessor(batch(), True)
    for module in range(k - 1):
        model.zero_grad()
        losses = model.loss(data['inputs'], data['data_samples'])
        later = [
            v for key, v in losses.items() if 'loss' in key and not any(
                key.startswith(f'local{j + 1}.') for j in range(module + 1))
        ]
        sum(later).backward()
        for name in module_param_names(model, module):
            p = dict(model.named_parameters())[name]
            assert p.grad is None or not p.grad.any(), name


def test_train_step_matches_loss_and_counts_one_iteration(model_cfg, batch):
    model = build(model_cfg(k=3, split_points=(3, 6)))
    reference = copy.deepcopy(model)
    # accumulative_counts=2: the first iteration only accumulates, so the
    # gradients stay visible, scaled by 1/2.
    wrapper = sgd(model, accumulative_counts=2)
    torch.manual_seed(0)
    logs = model.train_step(batch(), wrapper)
    assert wrapper._inner_count == 1  # one iteration, not one per module
    data = reference.data_preprocessor(batch(), True)
    torch.manual_seed(0)
    losses = reference.loss(data['inputs'], data['data_samples'])
    loss, _ = reference.parse_losses(losses)
    (loss / 2).backward()
    torch.testing.assert_close(logs['loss'], loss.detach())
    expected, got = grads(reference), grads(model)
    assert expected.keys() == got.keys()
    for name in expected:
        torch.testing.assert_close(got[name], expected[name], msg=name)
    # Every parameter of every module, local heads included, is trained.
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_one_optimizer_step_updates_all_modules(model_cfg, batch):
    model = build(model_cfg(k=3, split_points=(3, 6)))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    wrapper = sgd(model)
    logs = model.train_step(batch(), wrapper)
    assert wrapper._inner_count == 1
    changed = [
        n for n, p in model.named_parameters()
        if not torch.equal(p.detach(), before[n])
    ]
    assert len(changed) == len(before)
    assert {
        'local1.task.loss_ce', 'local1.loss_recon', 'local2.task.loss_ce',
        'local2.loss_recon', 'decode.loss_ce', 'aux.loss_ce', 'loss'
    } <= set(logs)
    total = sum(v for k, v in logs.items() if 'loss' in k and k != 'loss')
    torch.testing.assert_close(logs['loss'], total)
    assert all(not v.requires_grad for v in logs.values())


@OPTIM_WRAPPERS.register_module(force=True)
class CPUBf16OptimWrapper(OptimWrapper):
    """Test-only: bfloat16 autocast on CPU (mmengine's AmpOptimWrapper
    needs a GPU)."""

    @contextlib.contextmanager
    def optim_context(self, model):
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=torch.bfloat16):
            yield


@pytest.mark.slow  # bfloat16 convolutions are slow on CPUs
def test_amp_path_bfloat16_on_cpu(model_cfg, batch):
    model = build(model_cfg(k=2, split_points=(5, )))
    wrapper = CPUBf16OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.01))
    before = [p.detach().clone() for p in model.parameters()]
    # One step: bfloat16 convolutions are slow on CPUs without bf16 units.
    logs = model.train_step(batch(h=32, w=64), wrapper)
    assert all(torch.isfinite(v) for v in logs.values())
    for old, new in zip(before, model.parameters()):
        assert new.dtype == torch.float32 and torch.isfinite(new).all()
    assert sum(not torch.equal(o, n)
               for o, n in zip(before, model.parameters())) > len(before) // 2


@pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason='mmengine AmpOptimWrapper (fp16 loss scaling) needs CUDA')
def test_amp_optim_wrapper_on_cuda(model_cfg, batch):
    from mmengine.optim import AmpOptimWrapper
    model = build(model_cfg(k=2, split_points=(5, ))).cuda()
    wrapper = AmpOptimWrapper(
        optimizer=torch.optim.SGD(model.parameters(), lr=0.01))
    logs = model.train_step(batch(), wrapper)
    assert torch.isfinite(logs['loss'])


def test_init_weights_reaches_the_local_heads(model_cfg):
    model = build(model_cfg(k=3, split_points=(3, 6)))
    model.init_weights()
    for head in model.local_heads:
        # FCNHead's init_cfg: Normal(0, 0.01); PyTorch's default for a
        # 1x1 conv from 16 channels has a std of about 0.14.
        assert head.task_head.conv_seg.weight.std() < 0.02
        assert head.task_head.conv_seg.bias.abs().max() == 0
    cfg = model_cfg(k=2, split_points=(5, ))
    cfg['local_head']['init_cfg'] = dict(
        type='Constant', val=0.25, bias=0.0, layer='Conv2d')
    model = build(cfg)
    model.init_weights()
    assert torch.all(model.local_heads[0].recon_head.conv_out.weight == 0.25)


def test_local_heads_fit_their_module_output(model_cfg, batch):
    model = build(model_cfg(k=3, split_points=(1, 3)))
    # After the stem (64 channels, stride 4) and after layer1 (64, 4).
    for head, (_, stop) in zip(model.local_heads,
                               model.backbone.module_ranges):
        stride = model.backbone.element_out_stride(stop - 1)
        assert sum(s.bit_length() - 1
                   for s in head.recon_head.scales) == stride.bit_length() - 1
    model.train_step(batch(), sgd(model))


def test_greedy_ablation_trains(model_cfg, batch):
    model = build(model_cfg(k=2, split_points=(5, ), loss_recon_weight=0))
    logs = model.train_step(batch(), sgd(model))
    assert 'local1.loss_recon' not in logs and 'local1.task.loss_ce' in logs


@pytest.mark.parametrize('mode', ['whole', 'slide'])
def test_inference_is_encoder_decoder(model_cfg, make_e2e_cfg, batch, mode):
    cfg = model_cfg(k=3, split_points=(3, 6))
    test_cfg = dict(mode=mode)
    if mode == 'slide':
        test_cfg.update(crop_size=(64, 64), stride=(48, 48))
    cfg['test_cfg'] = test_cfg
    ours = build(cfg).eval()
    plain = build(make_e2e_cfg(cfg)).eval()
    state = {
        k: v
        for k, v in ours.state_dict().items()
        if not k.startswith('local_heads.')
    }
    plain.load_state_dict(state, strict=True)  # export to plain mmseg
    data = ours.data_preprocessor(batch(), False)
    with torch.no_grad():
        a = ours.predict(data['inputs'], data['data_samples'])
        b = plain.predict(data['inputs'], copy.deepcopy(data['data_samples']))
        torch.testing.assert_close(
            ours._forward(data['inputs']), plain._forward(data['inputs']))
    for x, y in zip(a, b):
        torch.testing.assert_close(x.seg_logits.data, y.seg_logits.data)
        assert torch.equal(x.pred_sem_seg.data, y.pred_sem_seg.data)


def test_optim_constructor_builds_the_local_heads_first(model_cfg, batch):
    from mmengine.optim import build_optim_wrapper
    model = build(model_cfg(k=2))
    wrapper = build_optim_wrapper(
        model,
        dict(
            constructor='InfoProOptimWrapperConstructor',
            optimizer=dict(type='SGD', lr=0.01)))
    assert model.split_decided
    optimized = {id(p) for p in wrapper.optimizer.param_groups[0]['params']}
    assert all(id(p) in optimized for p in model.local_heads.parameters())
    model.train_step(batch(), wrapper)


def test_bad_configs(model_cfg):
    cfg = model_cfg(k=2, split_points=(5, ))
    cfg['local_head'] = None
    with pytest.raises(ValueError, match='needs a local_head'):
        MODELS.build(cfg)
    cfg = model_cfg(k=2, split_points=(5, ))
    cfg['backbone'] = dict(type='ResNetV1c', depth=18)
    with pytest.raises(ValueError, match='module by module'):
        MODELS.build(cfg)
    cfg = model_cfg(k=3, split_points=(3, 6), loss_recon_weight=(1, 2, 3))
    with pytest.raises(ValueError, match=r'\(first, last\)'):
        MODELS.build(cfg)
    # Checked at build time, also for an automatic split.
    with pytest.raises(ValueError, match='>= 0'):
        MODELS.build(model_cfg(k=3, loss_task_weight=(1, -1)))
    with pytest.raises(ValueError, match='single local module'):
        MODELS.build(model_cfg(k=2, loss_recon_weight=(1.5, 0.5)))
    cfg = model_cfg(k=2)
    cfg['balance_shape'] = (4, 64)
    with pytest.raises(ValueError, match='balance_shape'):
        MODELS.build(cfg)
    cfg = model_cfg(k=2)
    cfg['split_memory_tolerance'] = -0.1
    with pytest.raises(ValueError, match='split_memory_tolerance'):
        MODELS.build(cfg)


def test_unknown_local_head_key_is_named_with_the_closest(model_cfg):
    """Checked when the model is built, though an automatic split builds
    the local heads only when training starts."""
    with pytest.raises(ValueError, match=r"no setting 'recon_weight'.*"
                       r"Did you mean 'loss_recon_weight'\?"):
        MODELS.build(model_cfg(k=2, recon_weight=2.0))
    with pytest.raises(ValueError, match=r"'colour'.*InfoProHead takes"):
        MODELS.build(model_cfg(k=2, split_points=(5, ), colour=1))
    cfg = model_cfg(k=2)
    cfg['local_head']['type'] = 'NoSuchHead'
    with pytest.raises(ValueError, match='NoSuchHead.*not registered'):
        MODELS.build(cfg)


def test_is_registered():
    assert MODELS.get('InfoProEncoderDecoder') is InfoProEncoderDecoder


@pytest.mark.skipif(
    not torch.cuda.is_available(), reason='per-module memory is CUDA only')
def test_per_module_memory_is_logged_on_cuda(model_cfg, batch):
    model = build(model_cfg(k=3, split_points=(3, 6))).cuda()
    logs = model.train_step(batch(), sgd(model))
    assert all(logs[f'm{i}.memory'] > 0 for i in (1, 2, 3))
