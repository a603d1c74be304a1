"""2-process CPU data parallelism (gloo) for InfoPro."""
import os.path as osp

import pytest
import torch

WORKER = osp.join(osp.dirname(osp.abspath(__file__)), 'ddp_worker.py')


def test_two_processes_equal_one_process_with_the_whole_batch(
        tmp_path, torchrun, run_tool):
    single, double = tmp_path / 'single', tmp_path / 'double'
    single.mkdir()
    double.mkdir()
    # torchrun runs its workers with OMP_NUM_THREADS=1; so does the
    # reference (in this process), or thread-dependent float rounding
    # would dominate.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run_tool(WORKER, str(single))
    finally:
        torch.set_num_threads(threads)
    proc = torchrun(2, WORKER, str(double))
    assert proc.returncode == 0, proc.stderr[-3000:]
    init, ref = torch.load(single / 'init.pt'), torch.load(single / 'rank0.pt')
    r0, r1 = torch.load(double / 'rank0.pt'), torch.load(double / 'rank1.pt')
    for name in ref:
        # Replicas stay identical (one all-reduce per iteration) ...
        assert torch.equal(r0[name], r1[name]), name
        if not ref[name].is_floating_point():
            assert torch.equal(r0[name], ref[name]), name
            continue
        # ... and 2 x batch 2 gives the update of 1 x batch 4, up to float
        # rounding (convolutions of 2 and 4 images round differently, and
        # 3 steps with momentum carry it on): a relative error of ~3e-11 in
        # float64, where a missing or unaveraged reduction gives ~1. The
        # unused parameter is not updated at all, as in one process.
        update, ddp_update = ref[name] - init[name], r0[name] - init[name]
        error = (ddp_update - update).norm() / update.norm().clamp_min(1e-12)
        assert error < 1e-6, (name, float(error))
    assert not (r0['backbone.unused'] - init['backbone.unused']).any()
    # The split was measured on each rank (float64 model, gloo), the same.
    assert r0['local_heads._extra_state'].tolist() == \
        ref['local_heads._extra_state'].tolist() != []


def test_wrapper_needs_a_process_group(model_cfg):
    from mmengine.config import ConfigDict
    from mmseg.registry import MODELS

    from mmseg_infopro.engine import InfoProDistributedDataParallel
    model = MODELS.build(ConfigDict(model_cfg(k=2, split_points=(5, ))))
    with pytest.raises(RuntimeError, match='torchrun'):
        InfoProDistributedDataParallel(model)


class NcclLikeCollectives:
    """Single-process stand-ins for torch.distributed's collectives that,
    as NCCL does, refuse any tensor not on the model's device.

    NCCL refuses CPU tensors next to a CUDA model. This machine has no
    second real device, so 'meta' stands in for the CPU: tensors that the
    code under test makes on the CPU next to a CUDA model are made on
    'meta' here (see ``extra_state_elsewhere``) and refused.
    """

    def __init__(self, device, rank0_split=None):
        self.device = torch.device(device)
        self.rank0_split = rank0_split
        self.calls = 0

    def _check(self, tensor):
        if tensor.device != self.device:
            raise RuntimeError(f'Tensors must be on {self.device} '
                               f'(NCCL-like), got {tensor.device}')
        self.calls += 1

    def broadcast(self, tensor, src=0, **kwargs):
        self._check(tensor)
        if self.rank0_split is not None and tensor.dtype == torch.long:
            tensor.copy_(torch.tensor(self.rank0_split))

    def all_reduce(self, tensor, op=None, **kwargs):
        self._check(tensor)

    def install(self, monkeypatch):
        import torch.distributed as dist
        for name, value in dict(
                is_available=lambda: True,
                is_initialized=lambda: True,
                get_rank=lambda: 1,
                get_world_size=lambda: 2,
                broadcast=self.broadcast,
                all_reduce=self.all_reduce).items():
            monkeypatch.setattr(dist, name, value)
        return self


@pytest.fixture
def extra_state_elsewhere(monkeypatch):
    """The local heads' split tensor, made on another device than the
    model's (on a GPU run: the CPU)."""
    from mmseg_infopro.models.segmentors.local_heads import LocalHeads
    made = LocalHeads.get_extra_state

    def elsewhere(self):
        return made(self).to('meta')

    monkeypatch.setattr(LocalHeads, 'get_extra_state', elsewhere)


def test_start_up_broadcasts_only_tensors_on_the_model_device(
        model_cfg, monkeypatch, extra_state_elsewhere):
    from mmengine.config import ConfigDict
    from mmseg.registry import MODELS

    from mmseg_infopro.engine import InfoProDistributedDataParallel
    model = MODELS.build(ConfigDict(model_cfg(k=2, split_points=(5, ))))
    assert 'local_heads._extra_state' in model.state_dict()
    fake = NcclLikeCollectives('cpu').install(monkeypatch)
    InfoProDistributedDataParallel(model)
    shared = len(list(model.parameters())) + len(list(model.buffers()))
    assert fake.calls == shared + 2  # + the split check's two collectives


@pytest.mark.slow  # two training steps
def test_start_up_measures_no_split_and_the_first_step_shares_the_heads(
        model_cfg, batch, monkeypatch):
    """mmengine wraps the model for testing too: the split is decided when
    training needs it, and heads built after start-up are broadcast before
    their first use."""
    from mmengine.config import ConfigDict
    from mmengine.optim import build_optim_wrapper
    from mmseg.registry import MODELS

    from mmseg_infopro.engine import InfoProDistributedDataParallel
    model = MODELS.build(ConfigDict(model_cfg(k=2))).double()
    fake = NcclLikeCollectives('cpu').install(monkeypatch)
    wrapped = InfoProDistributedDataParallel(model)
    assert not model.split_decided and fake.calls == len(
        list(model.parameters())) + len(list(model.buffers()))
    optim = build_optim_wrapper(
        wrapped,
        dict(
            constructor='InfoProOptimWrapperConstructor',
            optimizer=dict(type='SGD', lr=0.01)))
    assert model.split_decided
    fake.calls = 0
    wrapped.train_step(batch(), optim)
    heads = len(list(model.local_heads.parameters())) + len(
        list(model.local_heads.buffers()))
    # Split check (2), the heads, the gradient mask (1) and the buckets.
    assert fake.calls > heads + 3
    fake.calls = 0
    wrapped.train_step(batch(), optim)
    assert fake.calls < heads  # shared once


def test_a_parameter_no_rank_used_keeps_no_gradient(model_cfg, batch,
                                                    monkeypatch):
    """SGD skips a parameter without a gradient (no weight decay, no
    momentum); a zero gradient would decay it, unlike one process."""
    from mmengine.config import ConfigDict
    from mmengine.optim import OptimWrapper
    from mmseg.registry import MODELS

    from mmseg_infopro.engine import InfoProDistributedDataParallel
    model = MODELS.build(ConfigDict(model_cfg(k=2, split_points=(5, ))))
    model.backbone.register_parameter('unused',
                                      torch.nn.Parameter(torch.ones(3)))
    NcclLikeCollectives('cpu').install(monkeypatch)
    wrapped = InfoProDistributedDataParallel(model)
    optim = OptimWrapper(
        torch.optim.SGD(wrapped.parameters(), lr=0.1, weight_decay=0.1))
    wrapped.train_step(batch(), optim)
    assert torch.equal(model.backbone.unused, torch.ones(3))
    # A gradient a rank did produce (zero or not) is reduced.
    model.backbone.unused.grad = torch.zeros(3)
    wrapped.all_reduce_gradients()
    assert torch.equal(model.backbone.unused.grad, torch.zeros(3))


def test_ranks_with_different_splits_stop_with_the_split_to_set(
        model_cfg, monkeypatch):
    from mmengine.config import ConfigDict
    from mmseg.registry import MODELS

    from mmseg_infopro.engine import InfoProDistributedDataParallel
    model = MODELS.build(ConfigDict(model_cfg(k=2, split_points=(5, ))))
    NcclLikeCollectives('cpu', rank0_split=(6, )).install(monkeypatch)
    with pytest.raises(RuntimeError, match=r'split_points=\(6,\)'):
        InfoProDistributedDataParallel(model)


def test_setup_distributed_picks_the_wrapper_and_refuses_slurm_on_cpu():
    from mmengine.config import Config

    from mmseg_infopro.preflight import setup_distributed
    cfg = Config(dict(launcher='none', model=dict(type='X')))
    setup_distributed(cfg)
    assert 'model_wrapper_cfg' not in cfg
    cfg = Config(
        dict(launcher='slurm', model=dict(type='InfoProEncoderDecoder')))
    if torch.cuda.is_available():
        pytest.skip('the CPU-host path needs a machine without CUDA')
    with pytest.raises(ValueError, match='torchrun'):
        setup_distributed(cfg)
    assert cfg.model_wrapper_cfg.type == 'mmseg.InfoProDistributedDataParallel'
