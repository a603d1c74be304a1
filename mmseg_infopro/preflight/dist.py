"""Distributed start-up: the InfoPro model wrapper, and CPU-only hosts."""
import datetime
import logging
import os

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.logging import print_log

__all__ = ['setup_distributed']

# The scope prefix: the Runner looks wrappers up in mmengine's root registry,
# which finds mmseg's entries only through it.
WRAPPER = 'mmseg.InfoProDistributedDataParallel'


def _init_gloo(dist_cfg: dict) -> None:
    """The gloo process group, with the config's ``timeout`` (seconds, as
    mmengine reads it) where it sets one."""
    timeout = dist_cfg.get('timeout')
    dist.init_process_group(
        backend='gloo',
        **({} if timeout is None else dict(
            timeout=datetime.timedelta(seconds=timeout))))


def setup_distributed(cfg: Config) -> None:
    """Prepare a config for ``--launcher pytorch|slurm|mpi``.

    - InfoPro models (one backward per local module) and every model on a
      CPU-only host get ``model_wrapper_cfg=dict(type=
      'InfoProDistributedDataParallel')`` unless the config names a wrapper:
      torch's DDP expects one backward per forward, and mmengine's default
      wrapper passes ``device_ids``, which fails on CPU.
    - Without CUDA, mmengine 0.10.7's pytorch launcher still calls
      ``torch.cuda.set_device``; so the gloo process group is started here
      from torchrun's environment, and the Runner finds it ready.
    - With CUDA and ``env_cfg.dist_cfg.backend='gloo'``, the group is also
      started here, each process on GPU ``LOCAL_RANK % device_count``:
      mmengine would select GPU ``LOCAL_RANK``, which does not exist when
      several processes share a GPU (NCCL refuses that; gloo does not), as
      in a check of data-parallel training on a one-GPU machine.

    Args:
        cfg (Config): The full config (``launcher`` set); changed in place.

    Raises:
        ValueError: For ``--launcher slurm|mpi`` without CUDA (use torchrun
            and ``--launcher pytorch`` on CPU hosts).
    """
    launcher = cfg.get('launcher', 'none')
    if launcher == 'none':
        return
    cpu_only = not torch.cuda.is_available()
    if cfg.get('model_wrapper_cfg') is None and (
            cpu_only or cfg.model.get('type') == 'InfoProEncoderDecoder'):
        cfg.model_wrapper_cfg = dict(type=WRAPPER)
    if cfg.get('env_cfg') is None:
        cfg.env_cfg = dict()
    dist_cfg = cfg.env_cfg.setdefault('dist_cfg', dict())
    gloo_on_gpus = not cpu_only and launcher == 'pytorch' and dist_cfg.get(
        'backend') == 'gloo'
    if dist.is_initialized() or not (cpu_only or gloo_on_gpus):
        return
    if gloo_on_gpus:
        torch.cuda.set_device(
            int(os.environ['LOCAL_RANK']) % torch.cuda.device_count())
        _init_gloo(dist_cfg)
        return
    if launcher != 'pytorch':
        raise ValueError(
            f'--launcher {launcher} needs CUDA; on CPU hosts launch with '
            f'torchrun and --launcher pytorch.')
    if dist_cfg.get('backend', 'gloo') != 'gloo':
        print_log(
            f'No CUDA: using the gloo backend instead of '
            f'{dist_cfg["backend"]!r}.',
            logger='current',
            level=logging.WARNING)
    dist_cfg['backend'] = 'gloo'
    _init_gloo(dist_cfg)
