"""The project's GPU check: one command, one folder of JSON, under 8 minutes.

GPU time is rare here (one GPU, 15 minutes per session when lent at all), so
everything worth measuring on a GPU runs from this one script, most valuable
first, each step a subprocess with a time limit, under one overall deadline:

1. ``benchmark``: tools/analysis/benchmark_memory.py at the paper's setting
   (R-101-D8, batch 4, 512x1024, fp32): E2E, with_cp, AMP, InfoPro K = 2,
   K = 4, K = 4 + AMP.
2. ``train``: tools/train.py, the main config on generated Cityscapes-format
   data, a few iterations with the per-module memory (``m1.memory``, ...) in
   the log, and a validation.
3. ``ddp``: the same with two processes on the one GPU through
   InfoProDistributedDataParallel, gloo backend (NCCL refuses two ranks on
   one GPU): start-up broadcast, split check, bucketed all-reduce on CUDA.
4. ``fit-24GB``, ``fit-80GB``: tools/analysis/fit.py, the largest batch of
   E2E, K = 2 and K = 4 at 512x1024 and 1024x2048 within 24 GB and 80 GB.

Writes ``OUT/<step>.json`` (the tool's own JSON, or the training log's
scalars), ``OUT/<step>.log`` and ``OUT/summary.json`` (per step: command,
exit code, seconds, skipped or timed out). On the lent GPU machine
(../shared/device/README.md)::

    . ./.whl/device_setup.sh && python3 tools/analysis/gpu_check.py --out $OUT

Example (here, a quick run of the same steps on the CPU, tiny settings):
    python tools/analysis/gpu_check.py --out work_dirs/check --device cpu \\
        --config configs/demo/<demo config> --crop 64 128 --batch 2 \\
        --cases e2e k2 --iters 2 --steps benchmark train ddp
"""
import argparse
import json
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

MAIN_CONFIG = 'configs/deeplabv3_infopro_cityscapes.py'
STEPS = ('benchmark', 'train', 'ddp', 'fit-24GB', 'fit-80GB')
NORM_PARTS = ('backbone', 'decode_head', 'auxiliary_head', 'local_head')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', required=True, help='results folder')
    parser.add_argument('--config', default=MAIN_CONFIG, help='config')
    parser.add_argument('--device', choices=['cuda', 'cpu'], default='cuda')
    parser.add_argument(
        '--steps', nargs='+', choices=STEPS, default=list(STEPS))
    parser.add_argument(
        '--cases',
        nargs='+',
        default=['e2e', 'e2e+cp', 'e2e+amp', 'k2', 'k4', 'k4+amp'],
        help='benchmark cases')
    parser.add_argument('--batch', type=int, default=4, help='per process')
    parser.add_argument(
        '--crop', type=int, nargs=2, default=(512, 1024), metavar=('H', 'W'))
    parser.add_argument(
        '--iters', type=int, default=20, help='training iterations')
    parser.add_argument(
        '--fit-crops', nargs='+', default=['512x1024', '1024x2048'])
    parser.add_argument(
        '--deadline-s',
        type=float,
        default=450,
        help='overall time limit; steps that would start later are skipped')
    args = parser.parse_args()
    if args.device == 'cpu':
        args.cases = [c for c in args.cases if 'amp' not in c]
    return args


def run_step(name: str, cmd: List[str], out: str, timeout: float,
             env: Optional[Dict] = None) -> Dict:
    """Run one step with its output in ``out/<name>.log``."""
    start = time.time()
    log_path = osp.join(out, f'{name}.log')
    print(f'[{name}] {" ".join(cmd)}', flush=True)
    with open(log_path, 'w') as log:
        try:
            code = subprocess.run(
                cmd,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                env=dict(os.environ, PYTHONUNBUFFERED='1', **(env or {}))
            ).returncode
            timed_out = False
        except subprocess.TimeoutExpired:
            code, timed_out = None, True
    seconds = round(time.time() - start, 1)
    print(f'[{name}] exit {code}{" (timed out)" if timed_out else ""}, '
          f'{seconds} s', flush=True)
    return dict(
        command=cmd, exit_code=code, seconds=seconds, timed_out=timed_out)


def training_scalars(work_dir: str) -> List[Dict]:
    """The training log's scalars (mmengine's vis_data/scalars.json)."""
    for root, _, files in os.walk(work_dir):
        if 'scalars.json' in files:
            with open(osp.join(root, 'scalars.json')) as f:
                return [json.loads(line) for line in f]
    return []


def train_options(args: argparse.Namespace, data_root: str,
                  iters: int) -> List[str]:
    loaders = ('train_dataloader', 'val_dataloader')
    return [
        'model.pretrained=None',  # no download on the device machine
        *(f'{loader}.dataset.data_root={data_root}' for loader in loaders),
        *(f'{loader}.num_workers=2' for loader in loaders),
        f'train_dataloader.batch_size={args.batch}',
        f'model.balance_shape=({args.batch},{args.crop[0]},{args.crop[1]})',
        f'model.data_preprocessor.size=({args.crop[0]},{args.crop[1]})',
        f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
        'default_hooks.logger.interval=1',
        f'default_hooks.checkpoint.interval={iters}'
    ]


def main() -> None:
    args = parse_args()
    os.makedirs(args.out, exist_ok=True)
    deadline = time.time() + args.deadline_s
    py = sys.executable
    tmp = tempfile.mkdtemp(prefix='gpu_check_')
    summary = dict(config=args.config, device=args.device, steps={})
    data_root = osp.join(tmp, 'cityscapes')
    h, w = args.crop
    if {'train', 'ddp'} & set(args.steps):
        subprocess.run([
            py, 'tools/dataset_converters/synthetic_cityscapes.py', data_root,
            '--num-train', '8', '--num-val', '2', '--size',
            str(h), str(w)
        ],
                       check=True,
                       stdout=subprocess.DEVNULL)
    crop_opts = [
        f'train_dataloader.dataset.pipeline.3.crop_size=({h},{w})',
        f'train_dataloader.dataset.pipeline.2.scale=({w * 2},{h * 2})',
        f'val_dataloader.dataset.pipeline.1.scale=({w},{h})'
    ]
    for step in args.steps:
        left = deadline - time.time()
        if left < 20:
            summary['steps'][step] = dict(skipped='deadline')
            print(f'[{step}] skipped: deadline', flush=True)
            continue
        result_json = osp.join(args.out, f'{step}.json')
        env = None
        if step == 'benchmark':
            cmd = [
                py, 'tools/analysis/benchmark_memory.py', args.config,
                '--device', args.device, '--cases', *args.cases, '--batch',
                str(args.batch), '--crop',
                str(h),
                str(w), '--iters', '3', '--out', result_json
            ]
        elif step == 'train':
            work_dir = osp.join(tmp, 'train')
            cmd = [
                py, 'tools/train.py', args.config, '--work-dir', work_dir,
                '--cfg-options', *train_options(args, data_root, args.iters),
                *crop_opts
            ]
        elif step == 'ddp':
            work_dir = osp.join(tmp, 'ddp')
            with socket.socket() as s:
                s.bind(('127.0.0.1', 0))
                port = s.getsockname()[1]
            cmd = [
                py, '-m', 'torch.distributed.run', '--nproc_per_node=2',
                f'--master_port={port}', 'tools/train.py', args.config,
                '--launcher', 'pytorch', '--work-dir', work_dir,
                '--cfg-options',
                *train_options(args, data_root, max(2, args.iters // 2)),
                *crop_opts, 'env_cfg.dist_cfg.backend=gloo',
                *(f'model.{part}.norm_cfg.type=BN' for part in NORM_PARTS)
            ]
            env = dict(OMP_NUM_THREADS='4')
        else:
            budget = step.split('-')[1]
            cmd = [
                py, 'tools/analysis/fit.py', args.config, '--budget', budget,
                '--device', args.device, '--crops', *args.fit_crops,
                '--methods', 'e2e', 'k2', 'k4', '--amp', 'off',
                '--max-batch', '16', '--out', result_json
            ]
        record = run_step(step, cmd, args.out, left, env)
        if step in ('train', 'ddp'):
            scalars = training_scalars(work_dir)
            with open(result_json, 'w') as f:
                json.dump(scalars, f, indent=1)
            record['iterations_logged'] = sum('loss' in s for s in scalars)
            record['validated'] = any('mIoU' in s for s in scalars)
        summary['steps'][step] = record
        with open(osp.join(args.out, 'summary.json'), 'w') as f:
            json.dump(summary, f, indent=2)
    from mmseg_infopro.analysis import environment
    summary['environment'] = environment(args.device)
    with open(osp.join(args.out, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    shutil.rmtree(tmp, ignore_errors=True)
    failed = [
        s for s, r in summary['steps'].items()
        if r.get('exit_code') not in (0, None) or r.get('timed_out')
    ]
    print(f'wrote {args.out}/summary.json' +
          (f'; failed or timed out: {failed}' if failed else ''))


if __name__ == '__main__':
    main()
