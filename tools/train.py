"""Train a segmentor (mmseg 1.x's tools/train.py, with mmseg_infopro loaded
and the datasets checked before any worker starts).

Example:
    python tools/train.py configs/deeplabv3_infopro_cityscapes.py
    python tools/train.py CONFIG \
        --cfg-options model.backbone.num_local_modules=4
    python tools/train.py CONFIG --memory-budget 24GB   # the largest batch
    python tools/train.py CONFIG --memory-budget 11GB --fit crop
"""
import argparse
import logging
import os
import os.path as osp
import signal
import sys

import torch
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmseg.registry import RUNNERS

import mmseg_infopro  # noqa: F401  (registers the InfoPro modules)
from mmseg_infopro.datasets import DatasetCheckError, check_dataloader_cfgs
from mmseg_infopro.engine import InfoProRunner
from mmseg_infopro.memory_budget import (agree_on_choice, apply_choice,
                                         check_margin, describe, parse_size,
                                         read_choice, search_choice,
                                         write_choice)
from mmseg_infopro.preflight import (balance_shape_mismatch,
                                     build_model_shapes, load_runner_config,
                                     lock_work_dir, missing_weight_file,
                                     prepare_work_dir, resume_checkpoint,
                                     resume_mismatch, setup_distributed,
                                     split_from_checkpoint)
from mmseg_infopro.utils import (BUDGET_RECORD, CfgOptionsAction,
                                 CheckpointError, config_errors_as_one_line,
                                 load_checkpoint_file)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        help='resume from the latest checkpoint in the work_dir')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='train anew into a work_dir that holds checkpoints (they are '
        'moved to work_dir/replaced_<time>/ first)')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='enable automatic-mixed-precision training (needs a GPU)')
    parser.add_argument(
        '--memory-budget',
        metavar='SIZE',
        help='train the largest per-process batch (or crop, --fit crop) '
        'whose training step fits SIZE of memory (e.g. 24GB, 800MB), found '
        'by trial steps before training; --resume takes the choice again')
    parser.add_argument(
        '--fit',
        choices=['batch', 'crop'],
        default='batch',
        help='what --memory-budget chooses: the batch at the configured crop '
        '(default) or the crop (same aspect ratio) at the configured batch')
    parser.add_argument(
        '--memory-margin',
        type=float,
        default=0.1,
        metavar='FRACTION',
        help='fraction of --memory-budget kept free for what a trial step '
        'does not show (CUDA context, workers, fragmentation; default 0.1)')
    parser.add_argument(
        '--max-batch',
        type=int,
        default=32,
        metavar='N',
        help='the largest batch --memory-budget tries (default 32)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help='override config settings, e.g. '
        'model.backbone.num_local_modules=4 (mmseg syntax: key=value, '
        'lists as key="[a,b]")')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--skip-data-check',
        action='store_true',
        help='do not read every image and label before training (the folder '
        'layout is still checked)')
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the traceback of a configuration error (one error: line '
        'without it)')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def run(args: argparse.Namespace) -> None:
    """Train as the command line says."""
    if not osp.isfile(args.config):
        sys.exit(f'error: config {args.config!r} does not exist.')
    if args.memory_budget is not None:
        try:
            parse_size(args.memory_budget)
            check_margin(args.memory_margin)
        except ValueError as e:
            sys.exit(f'error: {e}')
        if args.max_batch < 1:
            sys.exit(f'error: --max-batch {args.max_batch}: give a batch >= '
                     f'1.')
    elif args.fit != 'batch':
        sys.exit(f'error: --fit {args.fit} chooses for --memory-budget; '
                 f'give the budget too.')
    try:
        cfg = load_runner_config(args.config, args.cfg_options,
                                 args.work_dir, args.launcher)
    except ValueError as e:
        sys.exit(f'error: {e}')

    if args.amp:
        if not torch.cuda.is_available():
            sys.exit('error: --amp (mixed precision through mmengine\'s '
                     'AmpOptimWrapper) needs a GPU; torch sees none.')
        wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if wrapper == 'AmpOptimWrapper':
            print_log(
                'AMP training is already enabled in your config.',
                logger='current',
                level=logging.WARNING)
        elif wrapper != 'OptimWrapper':
            sys.exit(f'error: --amp needs optim_wrapper.type="OptimWrapper" '
                     f'in {args.config}, got {wrapper!r}.')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'
    load_from = cfg.get('load_from')
    if load_from and '://' not in load_from:  # URLs are mmengine's to fetch
        try:
            load_checkpoint_file(load_from)
        except CheckpointError as e:
            sys.exit(f'error: load_from: {e}')
    problem = missing_weight_file(cfg)
    if problem:
        sys.exit(f'error: {problem}')
    if int(os.environ.get('RANK', 0)) == 0:
        try:  # held until the process ends: a second run into it stops
            args.work_dir_lock = lock_work_dir(cfg.work_dir)
        except ValueError as e:
            sys.exit(f'error: {e}')
    for stop in _STOP_SIGNALS:
        signal.signal(stop, _log_and_stop(cfg.work_dir))
    cfg.resume = args.resume
    if args.resume and not cfg.get('load_from'):
        # The checkpoint of this work dir, named (mmengine would take the
        # absolute path in last_checkpoint, which a moved or copied work
        # dir gets wrong).
        try:
            checkpoint, message = resume_checkpoint(cfg.work_dir)
        except ValueError as e:
            sys.exit(f'error: {e}')
        if checkpoint:
            cfg.load_from = checkpoint
            print_log(message, logger='current')
    recorded = read_choice(cfg.work_dir) if args.resume else None
    if recorded:
        apply_choice(cfg, recorded)
        print_log(
            f'{describe(recorded)} Taken from {BUDGET_RECORD} of the run '
            f'this one continues: not searched again.',
            logger='current')
        if args.memory_budget and parse_size(
                args.memory_budget) != recorded['budget_bytes']:
            print_log(
                f'--memory-budget {args.memory_budget} differs from the '
                f"resumed run's {recorded['budget']}: a resumed run keeps "
                f'its batch and crop.',
                logger='current',
                level=logging.WARNING)
    taken = split_from_checkpoint(cfg)
    if taken:
        print_log(
            f'InfoPro: split_points={taken[1]} as recorded in {taken[0]}, '
            f'which this run continues from (not measured again).',
            logger='current')
    # mmseg's modules check their settings when the Runner builds them: a
    # mistake stops here, before --overwrite moves earlier checkpoints.
    build_model_shapes(cfg)
    try:
        message = prepare_work_dir(cfg.work_dir, args.resume, args.overwrite,
                                   cfg.get('load_from'),
                                   int(os.environ.get('RANK', 0)) == 0)
    except ValueError as e:
        sys.exit(f'error: {e}')
    if message:
        print_log(message, logger='current', level=logging.WARNING)
    if args.resume and cfg.get('load_from'):
        problem = resume_mismatch(cfg, cfg.load_from)
        if problem:
            sys.exit(f'error: {problem}')
    # A budget sets balance_shape with the batch it chooses.
    warning = None if args.memory_budget else balance_shape_mismatch(cfg)
    if warning:
        print_log(warning, logger='current', level=logging.WARNING)
    hooks = cfg.get('custom_hooks') or []
    if not any(h.get('type') == 'WeightsOnlyCheckpointHook' for h in hooks):
        # torch >= 2.6 loads checkpoints with weights_only=True; this hook
        # keeps what mmengine saves loadable that way.
        cfg.custom_hooks = list(hooks) + [
            dict(type='WeightsOnlyCheckpointHook')
        ]

    loaders = ('train_dataloader',
               'val_dataloader') if cfg.get('val_cfg') else (
                   'train_dataloader', )
    # Every process checks the layout; one per machine reads every file.
    read_files = not args.skip_data_check and os.environ['LOCAL_RANK'] == '0'
    try:
        check_dataloader_cfgs(cfg, loaders, read_files)
    except DatasetCheckError as e:
        sys.exit(f'error: {e}')

    try:
        setup_distributed(cfg)
    except ValueError as e:
        sys.exit(f'error: {e}')
    if args.memory_budget and not recorded:
        try:
            choice = agree_on_choice(
                lambda: search_choice(
                    cfg,
                    args.memory_budget,
                    args.fit,
                    args.memory_margin,
                    max_batch=args.max_batch,
                    log=lambda line: print_log(line, logger='current')), cfg)
        except (ValueError, RuntimeError) as e:
            sys.exit(f'error: {e}')
        apply_choice(cfg, choice)
        print_log(describe(choice), logger='current')
        if not (cfg.get('auto_scale_lr') or {}).get('enable'):
            print_log(
                'The learning rate stays as configured: auto_scale_lr is '
                'not enabled (auto_scale_lr.enable=True and '
                'auto_scale_lr.base_batch_size=<the batch it is for> scale '
                'it with the batch).',
                logger='current')
    if int(os.environ.get('RANK', 0)) == 0:
        # A fresh run without a budget drops an earlier run's record.
        write_choice(cfg.work_dir, cfg.get('memory_budget'))
    if cfg.get('memory_budget'):
        cfg.custom_hooks = list(cfg.get('custom_hooks') or []) + [
            dict(
                type='MemoryBudgetHook',
                budget_bytes=cfg.memory_budget['budget_bytes'])
        ]
    runner = InfoProRunner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    model = runner.model.module if is_model_wrapper(
        runner.model) else runner.model
    if hasattr(model, 'ensure_split'):
        # The local heads must exist before the optimizer is built.
        model.ensure_split()
    runner.train()


#: A scheduler's stop or ``kill`` (exit 143), Ctrl-C (exit 130).
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def _log_and_stop(work_dir: str):
    """A handler of the stop signals that logs the stop and the checkpoint
    ``--resume`` will take, then exits 128 + the signal's number (a
    traceback through the training loop for Ctrl-C otherwise)."""

    def stop(signum, frame) -> None:
        try:
            checkpoint = resume_checkpoint(work_dir)[0]
        except ValueError:
            checkpoint = None
        print_log(
            f'Stopped by signal {signal.Signals(signum).name}. ' +
            (f'--resume continues from {checkpoint}.' if checkpoint else
             f'No checkpoint in {work_dir} yet: --resume would start '
             f'from scratch.'),
            logger='current',
            level=logging.WARNING)
        sys.exit(128 + signum)

    return stop


def main() -> None:
    args = parse_args()
    previous = {stop: signal.getsignal(stop) for stop in _STOP_SIGNALS}
    try:
        with config_errors_as_one_line(args.debug):
            run(args)
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


if __name__ == '__main__':
    main()
