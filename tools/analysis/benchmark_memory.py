"""Peak training memory and seconds per iteration: E2E vs InfoPro.

Runs real ``train_step`` calls (data preprocessor, losses, backward through
the optim wrapper, SGD step) on random images and labels, every case in a
fresh process (see :mod:`mmseg_infopro.analysis.train_memory` for how memory
is measured on CUDA and CPU).

Memory on CUDA is the peak the caching allocator reserved (what a budget
must hold; ``peak_mb``) and the peak tensors took (``peak_allocated_mb``).

A case is ``e2e`` (mmseg's own EncoderDecoder + ResNetV1c with the same
backbone and heads) or ``k<N>`` (InfoPro with N local modules), plus options
joined with ``+``: ``cp`` (backbone.with_cp), ``amp`` (fp16 autocast with
loss scaling on CUDA, bf16 autocast on CPU), ``split=a,b`` (split points).

For InfoPro cases it also prints, per local module, the split planner's
modelled memory next to the module's measured peak (docs/benchmarks.md, "the
split planner against measured peaks").

Examples:
    python tools/analysis/benchmark_memory.py \\
        configs/deeplabv3_infopro_cityscapes.py --cases e2e e2e+cp k2 k4 \\
        --batch 2 --crop 256 512 --device cpu
    python tools/analysis/benchmark_memory.py CONFIG --e2e --with-cp --batch 4
"""
import argparse
import json
import os
import sys
from typing import Dict, List

import torch

from mmseg_infopro.analysis import (check_case_config, environment, parse_case,
                                    run_case)
from mmseg_infopro.utils import (ConfigError, OutputError, load_config,
                                 parse_cfg_options, replaced_atomically)


def parse_args() -> argparse.Namespace:
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
        default=[],
        help='config overrides, key=value (mmseg syntax)')
    args = parser.parse_args()
    if args.batch < 1 or args.iters < 1 or args.warmup < 0 or min(
            args.crop) < 1:
        parser.error('--batch, --iters and --crop must be >= 1, --warmup '
                     '>= 0')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda but torch sees no CUDA device')
    return args


def format_table(results: List[Dict], device: str = 'cpu') -> str:
    """One row per case; on CUDA the reserved peak (what a budget must
    hold) and the allocated one (what tensors took) both."""
    e2e = next((r for r in results if r['case'] == 'e2e'), None)
    cuda = device == 'cuda'
    lines = [
        '| case | split points | peak MB' +
        (' (reserved) | allocated MB' if cuda else '') +
        ' | × E2E | s/iter | × E2E |', '|---|---|---|' +
        ('---|' if cuda else '') + '---|---|---|'
    ]
    for r in results:
        mem = f"{r['peak_mb'] / e2e['peak_mb']:.2f}" if e2e else '–'
        sec = f"{r['sec_per_iter'] / e2e['sec_per_iter']:.2f}" if e2e \
            else '–'
        split = ','.join(map(str, r['split_points'])) or '–'
        allocated = f" | {r['peak_allocated_mb']:.0f}" if cuda else ''
        lines.append(f"| {r['case']} | {split} | {r['peak_mb']:.0f}"
                     f"{allocated} | {mem} | {r['sec_per_iter']:.2f} | "
                     f"{sec} |")
    return '\n'.join(lines)


def format_module_table(results: List[Dict]) -> str:
    """Per local module: the split planner's model next to the measured
    peak (InfoPro cases); MB."""
    lines = [
        '| case | module | elements | inputs | activations | heads | '
        'own grads | earlier grads | kept | modelled | measured | error |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|'
    ]
    for r in results:
        for i, (m, measured) in enumerate(
                zip(r.get('modules_modelled', []),
                    r.get('module_peaks_mb', []))):
            terms = ' | '.join(f'{m[t]:.0f}' for t in (
                'inputs', 'activations', 'heads', 'own_gradients',
                'gradients', 'kept'))
            lines.append(
                f"| {r['case']} | {i + 1} | {m['start']}–{m['stop'] - 1} | "
                f"{terms} | {m['total']:.0f} | {measured:.0f} | "
                f"{(m['total'] - measured) / measured:+.1%} |")
    return '\n'.join(lines) if len(lines) > 2 else ''


def main() -> None:
    args = parse_args()
    try:  # before minutes of measuring
        check_case_config(args.config, args.cfg_options, args.out)
    except (ConfigError, OutputError) as e:
        sys.exit(f'error: {e}')
    if args.cases:
        specs = args.cases
    else:
        head = 'e2e' if args.e2e else 'k' + str(
            args.num_local_modules
            or load_config(args.config, parse_cfg_options(
                args.cfg_options)).model.backbone.num_local_modules)
        specs = [
            head + ('+cp' if args.with_cp else '') +
            ('+amp' if args.amp else '')
        ]
    for spec in specs:
        try:
            parse_case(spec)  # fail early on a typo
        except ValueError as e:
            sys.exit(f'error: {e}')
    results = []
    for spec in specs:
        try:
            r = run_case(args.config, spec, args.batch, args.crop, args.device,
                         args.iters, args.warmup, args.cfg_options)
        except RuntimeError as e:
            sys.exit(f'error: {e}')
        results.append(r)
        print(
            f"{spec}: peak {r['peak_mb']:.0f} MB, "
            f"{r['sec_per_iter']:.2f} s/iter",
            flush=True)
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
        with replaced_atomically(args.out) as tmp, open(tmp, 'w') as f:
            json.dump(report, f, indent=2)
        print(f'wrote {args.out}')
    print(format_table(results, args.device))
    modules = format_module_table(results)
    if modules:
        print(modules)


if __name__ == '__main__':
    main()
