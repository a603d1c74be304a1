"""2-process CPU data parallelism (gloo) for InfoPro."""
import os
import os.path as osp
import socket
import subprocess
import sys

import pytest
import torch

WORKER = osp.join(osp.dirname(osp.abspath(__file__)), 'ddp_worker.py')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def torchrun(nproc, *args, cwd=None):
    return subprocess.run([
        sys.executable, '-m', 'torch.distributed.run',
        f'--nproc_per_node={nproc}', f'--master_port={free_port()}', *args
    ],
                          capture_output=True,
                          text=True,
                          cwd=cwd,
                          timeout=600)


def test_two_processes_equal_one_process_with_the_whole_batch(tmp_path):
    single, double = tmp_path / 'single', tmp_path / 'double'
    single.mkdir()
    double.mkdir()
    # torchrun runs its workers with OMP_NUM_THREADS=1; so does the
    # reference, or thread-dependent float rounding would dominate.
    proc = subprocess.run(
        [sys.executable, WORKER, str(single)],
        capture_output=True,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS='1'),
        timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    proc = torchrun(2, WORKER, str(double))
    assert proc.returncode == 0, proc.stderr[-3000:]
    ref = torch.load(single / 'rank0.pt')
    r0, r1 = torch.load(double / 'rank0.pt'), torch.load(double / 'rank1.pt')
    for name in ref:
        # Replicas stay identical (one all-reduce per iteration) ...
        assert torch.equal(r0[name], r1[name]), name
        # ... and 2 x batch 2 gives the update of 1 x batch 4.
        torch.testing.assert_close(
            r0[name], ref[name], rtol=1e-5, atol=1e-6, msg=name)


def test_tools_train_with_torchrun_on_cpu(trained, tmp_path):
    work_dir = tmp_path / 'wd'
    proc = torchrun(
        2,
        'tools/train.py',
        trained['cfg'],
        '--launcher',
        'pytorch',
        '--work-dir',
        str(work_dir),
        '--cfg-options',
        'train_cfg.max_iters=2',
        'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2',
        # SyncBN as in the paper's configs: per-process BN on CPU hosts.
        *(f'model.{part}.norm_cfg.type=SyncBN'
          for part in ('backbone', 'decode_head', 'auxiliary_head',
                       'local_head')),
        cwd=trained['repo_root'])
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    assert 'local1.loss_recon' in log and 'mIoU' in log
    assert 'SyncBN needs GPU tensors' in log
    assert (work_dir / 'iter_2.pth').is_file()


def test_wrapper_needs_a_process_group(model_cfg):
    from mmengine.config import ConfigDict
    from mmseg.registry import MODELS

    from mmseg_infopro.engine import InfoProDistributedDataParallel
    model = MODELS.build(ConfigDict(model_cfg(k=2, split_points=(5, ))))
    with pytest.raises(RuntimeError, match='torchrun'):
        InfoProDistributedDataParallel(model)


def test_setup_distributed_picks_the_wrapper_and_refuses_slurm_on_cpu():
    from mmengine.config import Config

    from mmseg_infopro.engine import setup_distributed
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
