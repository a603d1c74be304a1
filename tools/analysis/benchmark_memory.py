"""Peak training memory and seconds per iteration: E2E vs InfoPro.

Runs real ``train_step`` calls (data preprocessor, losses, backward through the
optim wrapper, SGD step) on random images and labels, every case in a fresh
process so that no case inherits another's allocations.

Memory: on CUDA the peak of ``torch.cuda.max_memory_allocated`` over the timed
iterations (weights, gradients, optimizer state and activations); on CPU the
growth of the peak resident set over the resident set before the first timed
iteration, with ``MALLOC_MMAP_THRESHOLD_=131072`` so that freed activations
leave the resident set (docs/benchmarks.md).

A case is ``e2e`` (mmseg's own EncoderDecoder + ResNetV1c with the same
backbone and heads) or ``k<N>`` (InfoPro with N local modules), plus options
joined with ``+``: ``cp`` (backbone.with_cp), ``amp`` (float16 autocast with
loss scaling on CUDA, bfloat16 autocast on CPU), ``split=a,b`` (explicit
split points).

Examples:
    python tools/analysis/benchmark_memory.py \
        configs/deeplabv3_infopro_cityscapes.py --cases e2e e2e+cp k2 k4 \
        --batch 2 --crop 256 512 --device cpu
    python tools/analysis/benchmark_memory.py CONFIG --e2e --with-cp --batch 4
"""
import argparse
import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Dict, List

import torch

RESULT_TAG = 'BENCHMARK_RESULT '


def parse_case(spec: str) -> Dict:
    """``'k4+amp+split=5,9,20'`` -> dict(k=4, amp=True, split=(5, 9, 20))."""
    parts = spec.split('+')
    case = dict(name=spec, k=None, cp=False, amp=False, split=None)
    if parts[0] == 'e2e':
        case['k'] = 0
    elif parts[0].startswith('k') and parts[0][1:].isdigit():
        case['k'] = int(parts[0][1:])
    else:
        raise ValueError(f'case {spec!r} must start with "e2e" or "k<N>".')
    for opt in parts[1:]:
        if opt in ('cp', 'amp'):
            case[opt] = True
        elif opt.startswith('split=') and case['k']:
            case['split'] = tuple(int(p) for p in opt[6:].split(','))
        else:
            raise ValueError(f'unknown option {opt!r} in case {spec!r} '
                             f'(cp, amp, split=a,b for k<N> cases).')
    return case


def build_case_config(config: str, case: Dict, crop: List[int],
                      cfg_options: Dict):
    """The config of one case: InfoPro as configured, or its E2E twin."""
    from mmengine.config import Config, ConfigDict

    from mmseg_infopro.models.utils import to_plain_model_cfg
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if case['k'] == 0:
        cfg.model = ConfigDict(to_plain_model_cfg(cfg.model))
    else:
        cfg.model.backbone.num_local_modules = case['k']
        cfg.model.backbone.split_points = case['split']
    cfg.model.pretrained = None
    cfg.model.data_preprocessor.size = tuple(crop)
    cfg.model.backbone.with_cp = case['cp']
    return cfg


def rss_bytes() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


def peak_rss_bytes() -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmHWM:'):
                return int(line.split()[1]) * 1024
    raise RuntimeError('VmHWM not in /proc/self/status')


def run_case(args: argparse.Namespace) -> Dict:
    """Measure one case in this process."""
    from mmengine.model import revert_sync_batchnorm
    from mmengine.optim import build_optim_wrapper
    from mmengine.structures import PixelData
    from mmseg.registry import MODELS
    from mmseg.structures import SegDataSample
    from mmseg.utils import register_all_modules

    import mmseg_infopro  # noqa: F401
    register_all_modules(init_default_scope=True)

    case = parse_case(args.single_case)
    device = torch.device(args.device)
    cfg = build_case_config(args.config, case, args.crop, args.cfg_options)
    torch.manual_seed(0)
    model = revert_sync_batchnorm(MODELS.build(cfg.model)).to(device).train()
    optim_cfg = dict(cfg.optim_wrapper)
    optim_cfg['type'] = 'OptimWrapper'
    if case['amp'] and device.type == 'cuda':
        optim_cfg.update(type='AmpOptimWrapper', loss_scale='dynamic')
    optim_wrapper = build_optim_wrapper(model, optim_cfg)
    if case['amp'] and device.type == 'cpu':
        cpu_amp = optim_wrapper.optim_context

        @contextlib.contextmanager
        def bf16_context(model):
            with cpu_amp(model), torch.autocast('cpu', torch.bfloat16):
                yield

        optim_wrapper.optim_context = bf16_context
    h, w = args.crop
    gen = torch.Generator().manual_seed(0)
    data = dict(
        inputs=[
            torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8)
            for _ in range(args.batch)
        ],
        data_samples=[
            SegDataSample(
                gt_sem_seg=PixelData(
                    data=torch.randint(0, 19, (1, h, w), generator=gen)),
                metainfo=dict(
                    img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
            for _ in range(args.batch)
        ])

    def step() -> float:
        if device.type == 'cuda':
            torch.cuda.synchronize()
        start = time.perf_counter()
        model.train_step(data, optim_wrapper)
        if device.type == 'cuda':
            torch.cuda.synchronize()
        return time.perf_counter() - start

    for _ in range(args.warmup):
        step()
    if device.type == 'cuda':
        torch.cuda.reset_peak_memory_stats()
    else:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # resets VmHWM, the peak resident set
        base = rss_bytes()
    times = [step() for _ in range(args.iters)]
    if device.type == 'cuda':
        peak = torch.cuda.max_memory_allocated()
    else:
        peak = peak_rss_bytes() - base
    backbone = getattr(model, 'backbone')
    return dict(
        case=case['name'],
        k=case['k'],
        split_points=list(getattr(backbone, 'split_points', None) or []),
        with_cp=case['cp'],
        amp=case['amp'],
        peak_mb=peak / 2**20,
        sec_per_iter=statistics.median(times),
        times=times)


def environment(device: str) -> Dict:
    import mmcv
    import mmengine
    import mmseg
    env = dict(
        python=platform.python_version(),
        torch=torch.__version__,
        mmcv=mmcv.__version__,
        mmengine=mmengine.__version__,
        mmseg=mmseg.__version__,
        machine=platform.machine(),
        cpus=os.cpu_count(),
        processor=platform.processor() or platform.machine())
    if device == 'cuda':
        env.update(gpu=torch.cuda.get_device_name(0), cuda=torch.version.cuda)
    return env


def parse_args() -> argparse.Namespace:
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='Peak training memory and s/iter, E2E vs InfoPro')
    parser.add_argument('config', help='InfoPro config')
    parser.add_argument(
        '--cases',
        nargs='+',
        help='cases to run, e.g. e2e e2e+cp e2e+amp k2 k4 k4+amp k2+split=21; '
        'without it, one case from --e2e/--num-local-modules/--with-cp/--amp')
    parser.add_argument(
        '--e2e', action='store_true', help='the single case is E2E')
    parser.add_argument(
        '--num-local-modules',
        '-k',
        type=int,
        help='K of the single InfoPro case (default: config)')
    parser.add_argument(
        '--with-cp',
        action='store_true',
        help='gradient checkpointing in the backbone')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision (fp16 on CUDA, bf16 on CPU)')
    parser.add_argument('--batch', type=int, default=2, help='batch size')
    parser.add_argument(
        '--crop',
        type=int,
        nargs=2,
        default=(512, 1024),
        metavar=('H', 'W'),
        help='crop size')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    parser.add_argument(
        '--iters',
        type=int,
        default=3,
        help='timed iterations per case (median reported)')
    parser.add_argument(
        '--warmup', type=int, default=1, help='untimed iterations first')
    parser.add_argument('--out', help='write the results as JSON here')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='config overrides (mmseg syntax)')
    parser.add_argument('--single-case', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.batch < 1 or args.iters < 1 or args.warmup < 0:
        parser.error('--batch and --iters must be >= 1, --warmup >= 0')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda but torch sees no CUDA device')
    return args


def raw_cfg_options() -> List[str]:
    """The ``--cfg-options`` words as typed, to pass on to a case."""
    argv = sys.argv[sys.argv.index('--cfg-options') + 1:]
    end = next((i for i, a in enumerate(argv) if a.startswith('--')),
               len(argv))
    return argv[:end]


def format_table(results: List[Dict]) -> str:
    e2e = next((r for r in results if r['case'] == 'e2e'), None)
    lines = [
        '| case | split points | peak MB | × E2E | s/iter | × E2E |',
        '|---|---|---|---|---|---|'
    ]
    for r in results:
        mem = f"{r['peak_mb'] / e2e['peak_mb']:.2f}" if e2e else '–'
        sec = f"{r['sec_per_iter'] / e2e['sec_per_iter']:.2f}" if e2e \
            else '–'
        split = ','.join(map(str, r['split_points'])) or '–'
        lines.append(f"| {r['case']} | {split} | {r['peak_mb']:.0f} | {mem} "
                     f"| {r['sec_per_iter']:.2f} | {sec} |")
    return '\n'.join(lines)


def main() -> None:
    args = parse_args()
    if args.single_case:
        print(RESULT_TAG + json.dumps(run_case(args)), flush=True)
        return
    if args.cases:
        specs = args.cases
    elif args.e2e:
        specs = [
            'e2e' + ('+cp' if args.with_cp else '') +
            ('+amp' if args.amp else '')
        ]
    else:
        from mmengine.config import Config
        k = args.num_local_modules or Config.fromfile(
            args.config).model.backbone.num_local_modules
        specs = [
            f'k{k}' + ('+cp' if args.with_cp else '') +
            ('+amp' if args.amp else '')
        ]
    for spec in specs:
        try:
            parse_case(spec)  # fail early on a typo
        except ValueError as e:
            sys.exit(f'error: {e}')
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_='131072')
    results = []
    for spec in specs:
        cmd = [
            sys.executable, __file__, args.config, '--single-case', spec,
            '--batch',
            str(args.batch), '--crop', *map(str, args.crop), '--device',
            args.device, '--iters',
            str(args.iters), '--warmup',
            str(args.warmup)
        ]
        if args.cfg_options:
            cmd += ['--cfg-options'] + raw_cfg_options()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        lines = [
            ln for ln in proc.stdout.splitlines() if ln.startswith(RESULT_TAG)
        ]
        if proc.returncode != 0 or not lines:
            sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
            sys.exit(f'error: case {spec!r} failed (exit {proc.returncode}).')
        results.append(json.loads(lines[-1][len(RESULT_TAG):]))
        r = results[-1]
        print(
            f"{spec}: peak {r['peak_mb']:.0f} MB, "
            f"{r['sec_per_iter']:.2f} s/iter",
            flush=True)
    print(format_table(results))
    if args.out:
        report = dict(
            config=args.config,
            batch=args.batch,
            crop=list(args.crop),
            device=args.device,
            iters=args.iters,
            environment=environment(args.device),
            results=results)
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(report, f, indent=2)
        print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
