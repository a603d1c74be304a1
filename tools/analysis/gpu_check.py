"""The project's GPU check: one command, one folder of JSON, under 8 minutes.

GPU time is rare here (one GPU, 15 minutes per session when lent at all), so
everything worth checking on a GPU runs from this one script, each step a
subprocess with a time limit, under one overall deadline. The steps are what
users run, in the order they run it, after the memory benchmark:

1. ``benchmark``: tools/analysis/benchmark_memory.py at the paper's setting
   (R-101-D8, batch 4, 512x1024, fp32): E2E, with_cp, AMP, InfoPro K = 2,
   K = 4, K = 4 + AMP.
2. ``train``: tools/train.py, the main config (automatic split) on generated
   Cityscapes-format data, a few iterations with the per-module memory
   (``m1.memory``, ...) in the log, a validation and a checkpoint.
3. ``test``: tools/test.py on that checkpoint (the split taken from it).
4. ``inference``: demo/image_demo.py, i.e. mmseg's ``init_model`` and
   ``inference_model`` on that checkpoint.
5. ``ddp``: training with two processes on the one GPU through
   InfoProDistributedDataParallel, gloo backend (NCCL refuses two ranks on
   one GPU), stopped halfway and continued with ``--resume``.
6. ``test-ddp``: tools/test.py with two processes on the ddp checkpoint.
7. ``train-budget``: tools/train.py ``--memory-budget`` (``--budget``, 24 GB
   by default): the batch it chose, its trial's peak, and the peak that
   training then measured (``OUT/train-budget.json``, the work dir's
   ``memory_budget.json``).
8. ``cuda-tests``: the test suite's CUDA tests (``pytest -m cuda``), when
   pytest is installed.
9. ``fit-24GB``, ``fit-80GB``: tools/analysis/fit.py, the largest batch of
   E2E, K = 2 and K = 4 at 512x1024 and 1024x2048 within 24 GB and 80 GB.

Writes ``OUT/<step>.json`` (the tool's own JSON, the training log's scalars
or the test metrics), ``OUT/<step>.log`` and ``OUT/summary.json`` (per step:
commands, exit code, seconds, skipped or timed out, and what the log shows:
whether a split was measured, taken from a checkpoint, resumed); an earlier
check's files there move to ``OUT/replaced_<time>/`` first. On the lent
GPU machine (../shared/device/README.md)::

    . ./.whl/device_setup.sh && python3 tools/analysis/gpu_check.py --out $OUT

Example (here, a quick run of the same steps on the CPU, tiny settings):
    python tools/analysis/gpu_check.py --out work_dirs/check --device cpu \\
        --config configs/demo/<demo config> --crop 64 128 --batch 2 \\
        --cases e2e k2 --iters 2 --steps train test inference ddp test-ddp
"""
import argparse
import glob
import importlib.util
import json
import os
import os.path as osp
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from typing import Dict, List, Optional

MAIN_CONFIG = 'configs/deeplabv3_infopro_cityscapes.py'
STEPS = ('benchmark', 'train', 'test', 'inference', 'ddp', 'test-ddp',
         'train-budget', 'cuda-tests', 'fit-24GB', 'fit-80GB')
NORM_PARTS = ('backbone', 'decode_head', 'auxiliary_head', 'local_head')
#: What the logs say, recorded per step (see the summary).
LOG_FACTS = dict(
    split_measured='automatic split_points',
    split_from_checkpoint='as recorded in',
    resumed='resumed epoch')


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
        '--budget', default='24GB', help='the train-budget step\'s budget')
    parser.add_argument(
        '--deadline-s',
        type=float,
        default=450,
        help='overall time limit; steps that would start later are skipped')
    args = parser.parse_args()
    if args.device == 'cpu':
        args.cases = [c for c in args.cases if 'amp' not in c]
    return args


def run_step(name: str, cmds: List[List[str]], out: str, deadline: float,
             env: Optional[Dict] = None) -> Dict:
    """Run one step's commands in turn, their output in ``out/<name>.log``,
    stopping at the first that fails or when the deadline passes."""
    start = time.time()
    record = dict(commands=cmds, exit_code=None, timed_out=False)
    with open(osp.join(out, f'{name}.log'), 'w') as log:
        for cmd in cmds:
            print(f'[{name}] {" ".join(cmd)}', flush=True)
            log.write(f'$ {" ".join(cmd)}\n')
            log.flush()
            try:
                record['exit_code'] = subprocess.run(
                    cmd,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    timeout=max(deadline - time.time(), 1),
                    env=dict(os.environ, PYTHONUNBUFFERED='1',
                             **(env or {}))).returncode
            except subprocess.TimeoutExpired:
                record.update(exit_code=None, timed_out=True)
            if record['exit_code'] != 0:
                break
    record['seconds'] = round(time.time() - start, 1)
    with open(osp.join(out, f'{name}.log')) as log:
        text = log.read()
    record.update((fact, phrase in text) for fact, phrase in LOG_FACTS.items())
    print(f'[{name}] exit {record["exit_code"]}'
          f'{" (timed out)" if record["timed_out"] else ""}, '
          f'{record["seconds"]} s', flush=True)
    return record


def training_scalars(work_dir: str) -> List[Dict]:
    """The training logs' scalars (mmengine's vis_data/scalars.json), of
    every run into ``work_dir`` in the order they ran."""
    scalars = []
    for run in sorted(os.listdir(work_dir)) if osp.isdir(work_dir) else []:
        path = osp.join(work_dir, run, 'vis_data', 'scalars.json')
        if osp.isfile(path):
            with open(path) as f:
                scalars += [json.loads(line) for line in f]
    return scalars


def test_metrics(log_path: str) -> Dict[str, float]:
    """The metrics of the last ``Iter(test)`` line of a tools/test.py log."""
    metrics: Dict[str, float] = {}
    with open(log_path) as f:
        for line in f:
            if 'Iter(test)' in line and 'mIoU' in line:
                metrics = {
                    k: float(v)
                    for k, v in re.findall(r'(\w+): (-?[0-9.]+)', line)
                }
    return metrics


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Commands:
    """The command lines of the steps, for one config, device and size."""

    def __init__(self, args: argparse.Namespace, tmp: str) -> None:
        self.args, self.tmp = args, tmp
        self.py = sys.executable
        self.data_root = osp.join(tmp, 'cityscapes')
        h, w = args.crop
        self.crop_options = [
            f'train_dataloader.dataset.pipeline.3.crop_size=({h},{w})',
            f'train_dataloader.dataset.pipeline.2.scale=({w * 2},{h * 2})',
            f'val_dataloader.dataset.pipeline.1.scale=({w},{h})',
            f'test_dataloader.dataset.pipeline.1.scale=({w},{h})'
        ]

    def _data_options(self) -> List[str]:
        loaders = ('train_dataloader', 'val_dataloader', 'test_dataloader')
        return [
            'model.pretrained=None',  # no download on the device machine
            *(f'{loader}.dataset.data_root={self.data_root}'
              for loader in loaders),
            *(f'{loader}.num_workers=2' for loader in loaders),
            *self.crop_options
        ]

    def _train_options(self, iters: int, batch: bool = True) -> List[str]:
        """Options of a short training; without ``batch``, the batch size
        and ``balance_shape`` are left to ``--memory-budget``."""
        a = self.args
        batch_options = [
            f'train_dataloader.batch_size={a.batch}',
            f'model.balance_shape=({a.batch},{a.crop[0]},{a.crop[1]})'
        ] if batch else []
        return [
            *self._data_options(), *batch_options,
            f'model.data_preprocessor.size=({a.crop[0]},{a.crop[1]})',
            f'train_cfg.max_iters={iters}', f'train_cfg.val_interval={iters}',
            'default_hooks.logger.interval=1',
            f'default_hooks.checkpoint.interval={iters}'
        ]

    def _torchrun(self) -> List[str]:
        return [
            self.py, '-m', 'torch.distributed.run', '--nproc_per_node=2',
            f'--master_port={free_port()}'
        ]

    def _two_processes(self) -> List[str]:
        """Options for 2 processes on one GPU: gloo (NCCL refuses two ranks
        on one GPU) and BN (torch's SyncBN needs NCCL's collectives). On the
        CPU, SyncBN as the paper's configs have it: the wrapper falls back
        to per-process BN, as on a CPU host."""
        norm = 'BN' if self.args.device == 'cuda' else 'SyncBN'
        return [
            'env_cfg.dist_cfg.backend=gloo',
            *(f'model.{part}.norm_cfg.type={norm}' for part in NORM_PARTS)
        ]

    def work_dir(self, step: str) -> str:
        return osp.join(self.tmp, step)

    def checkpoint(self, step: str) -> str:
        return osp.join(self.work_dir(step), f'iter_{self.args.iters}.pth')

    def __call__(self, step: str, out: str) -> List[List[str]]:
        a, py = self.args, self.py
        result_json = osp.join(out, f'{step}.json')
        if step == 'benchmark':
            return [[
                py, 'tools/analysis/benchmark_memory.py', a.config,
                '--device', a.device, '--cases', *a.cases, '--batch',
                str(a.batch), '--crop',
                *map(str, a.crop), '--iters', '3', '--out', result_json
            ]]
        if step == 'train':
            return [[
                py, 'tools/train.py', a.config, '--work-dir',
                self.work_dir(step), '--cfg-options',
                *self._train_options(a.iters)
            ]]
        if step == 'train-budget':
            return [[
                py, 'tools/train.py', a.config, '--work-dir',
                self.work_dir(step), '--memory-budget', a.budget,
                '--cfg-options', *self._train_options(a.iters, batch=False)
            ]]
        if step == 'ddp':
            # Stopped halfway, then continued: the resumed run takes the
            # split from the checkpoint on every rank.
            return [[
                *self._torchrun(), 'tools/train.py', a.config, '--launcher',
                'pytorch', '--work-dir',
                self.work_dir(step), *(['--resume'] if resume else []),
                '--cfg-options', *self._train_options(iters),
                *self._two_processes()
            ] for resume, iters in ((False, max(1, a.iters // 2)),
                                    (True, a.iters))]
        if step in ('test', 'test-ddp'):
            source = 'train' if step == 'test' else 'ddp'
            launch = [py] if step == 'test' else self._torchrun()
            return [[
                *launch, 'tools/test.py', a.config,
                self.checkpoint(source), '--work-dir',
                self.work_dir(step), '--cfg-options', *self._data_options(),
                *(self._two_processes() if step == 'test-ddp' else [])
            ] + (['--launcher', 'pytorch'] if step == 'test-ddp' else [])]
        if step == 'inference':
            image = osp.join(self.data_root, 'leftImg8bit', 'val', 'frankfurt',
                             'frankfurt_000000_000019_leftImg8bit.png')
            return [[
                py, 'demo/image_demo.py', image, a.config,
                self.checkpoint('train'), '--device',
                'cuda:0' if a.device == 'cuda' else 'cpu', '--out-file',
                osp.join(out, 'inference.png')
            ]]
        if step == 'cuda-tests':
            return [[py, '-m', 'pytest', '-q', '-m', 'cuda', 'tests']]
        budget = step.split('-')[1]
        return [[
            py, 'tools/analysis/fit.py', a.config, '--budget', budget,
            '--device', a.device, '--crops', *a.fit_crops, '--methods',
            'e2e', 'k2', 'k4', '--amp', 'off', '--max-batch', '16', '--out',
            result_json
        ]]


def skip_reason(step: str, commands: Commands) -> Optional[str]:
    """Why a step cannot run (an earlier step it needs failed)."""
    needs = dict(test='train', inference='train', **{'test-ddp': 'ddp'})
    if step in needs and not osp.isfile(commands.checkpoint(needs[step])):
        return f'no checkpoint from the {needs[step]} step'
    if step == 'cuda-tests' and importlib.util.find_spec('pytest') is None:
        return 'pytest is not installed'
    return None


def main() -> None:
    args = parse_args()
    os.makedirs(args.out, exist_ok=True)
    earlier = [
        p for p in glob.glob(osp.join(args.out, '*'))
        if osp.isfile(p) and p.endswith(('.json', '.log', '.png'))
    ]
    if earlier:  # an earlier check's results are kept, not overwritten
        from mmseg_infopro.preflight import set_aside
        print(f'moved the earlier results to '
              f'{set_aside(args.out, earlier)}', flush=True)
    deadline = time.time() + args.deadline_s
    tmp = tempfile.mkdtemp(prefix='gpu_check_')
    commands = Commands(args, tmp)
    summary = dict(config=args.config, device=args.device, steps={})
    if set(args.steps) - {'benchmark', 'cuda-tests', 'fit-24GB', 'fit-80GB'}:
        from mmseg_infopro.datasets import write_synthetic_cityscapes
        write_synthetic_cityscapes(
            commands.data_root, 8, 2, size=tuple(args.crop), seed=0)
    for step in [s for s in STEPS if s in args.steps]:
        reason = 'deadline' if deadline - time.time() < 20 else skip_reason(
            step, commands)
        if reason:
            summary['steps'][step] = dict(skipped=reason)
            print(f'[{step}] skipped: {reason}', flush=True)
            continue
        # Two processes with a quarter of the cores each leave the rest to
        # their dataloader workers.
        threads = str(max(1, (os.cpu_count() or 1) // 4))
        record = run_step(step, commands(step, args.out), args.out, deadline,
                          dict(OMP_NUM_THREADS=threads) if step in (
                              'ddp', 'test-ddp') else None)
        result_json = osp.join(args.out, f'{step}.json')
        if step in ('train', 'ddp'):
            scalars = training_scalars(commands.work_dir(step))
            with open(result_json, 'w') as f:
                json.dump(scalars, f, indent=1)
            record['iterations_logged'] = sum('loss' in s for s in scalars)
            record['validated'] = any('mIoU' in s for s in scalars)
        elif step in ('test', 'test-ddp'):
            record['metrics'] = test_metrics(
                osp.join(args.out, f'{step}.log'))
        elif step == 'train-budget':
            chosen = osp.join(commands.work_dir(step), 'memory_budget.json')
            if osp.isfile(chosen):
                shutil.copy(chosen, result_json)
                with open(chosen) as f:
                    choice = json.load(f)
                record.update((key, choice.get(key)) for key in (
                    'batch', 'crop', 'peak_mb', 'trials', 'search_seconds',
                    'training_peak_mb', 'training_within_budget'))
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
