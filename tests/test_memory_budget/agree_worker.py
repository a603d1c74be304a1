"""Worker for test_choice.py (not a test module): agree_on_choice over
torchrun's ranks with gloo on the CPU, the default group's timeout 5 s,
twice.

    torchrun --nproc_per_node=2 agree_worker.py

First rank 0's search takes 8 s (past the default group's timeout) and
chooses batch 3 (``slow``); then it raises a KeyError (``fails``). Every rank
prints what it got: ``MODE rank R: batch B`` or ``MODE rank R: error: ...``.
"""
import os
import time

from mmengine.config import Config

from mmseg_infopro.memory_budget import BudgetError, agree_on_choice
from mmseg_infopro.preflight import setup_distributed

RANK = int(os.environ['RANK'])


def choose():
    if RANK != 0:
        raise AssertionError('only rank 0 searches')
    if MODE == 'fails':
        raise KeyError('no such trial')
    time.sleep(8)
    return dict(batch=3)


cfg = Config(
    dict(
        launcher='pytorch',
        model=dict(type='EncoderDecoder'),
        env_cfg=dict(dist_cfg=dict(backend='gloo', timeout=5))))
setup_distributed(cfg)  # as tools/train.py: gloo on a CPU host
for MODE in ('slow', 'fails'):
    try:
        print(f'{MODE} rank {RANK}: batch '
              f'{agree_on_choice(choose, cfg)["batch"]}', flush=True)
    except BudgetError as e:
        print(f'{MODE} rank {RANK}: error: {e}', flush=True)
