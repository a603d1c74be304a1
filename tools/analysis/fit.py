"""Find the largest per-GPU batch and crop that train within a memory budget.

For E2E and InfoPro (K = 2, 4, ...), with and without activation
checkpointing (``e2e+cp``, ``k2+cp``) and mixed precision, this
answers "what does my GPU allow?" by running real training steps: a report
over the search ``tools/train.py --memory-budget`` runs
(:class:`~mmseg_infopro.memory_budget.BudgetSearch`). On CUDA a step runs under
``torch.cuda.set_per_process_memory_fraction`` (running out of memory: does
not fit); on CPU its peak resident-set growth (activations and gradients) is
compared with the budget. Both keep ``--margin`` of the budget free. The
split planner's memory model places the first trial; the trials' own
measurements the next, until a batch that fits lies next to one that does
not.

Examples:
    python tools/analysis/fit.py configs/deeplabv3_infopro_cityscapes.py \\
        --budget 24GB --device cuda
    python tools/analysis/fit.py CONFIG --budget 600MB --device cpu \\
        --crops 128x256 256x512 --methods e2e e2e+cp k2
    python tools/analysis/fit.py CONFIG --budget 2GB --device cpu \\
        --crops 256x352 --batch 8 --methods e2e e2e+cp k2   # largest crops
"""
import argparse
import json
import os
import re
import sys
from typing import Tuple

import torch

from mmseg_infopro.analysis import check_case_config, environment, parse_case
from mmseg_infopro.memory_budget import BudgetSearch, check_margin, parse_size
from mmseg_infopro.utils import ConfigError, OutputError, replaced_atomically


def parse_crop(text: str) -> Tuple[int, int]:
    match = re.fullmatch(r'([1-9]\d*)x([1-9]\d*)', text)
    if not match:
        raise ValueError(f'crop {text!r} must look like 512x1024 (HxW).')
    return int(match.group(1)), int(match.group(2))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='InfoPro config')
    parser.add_argument(
        '--budget', required=True, help='memory per GPU, e.g. 24GB or 800MB')
    parser.add_argument(
        '--crops',
        nargs='+',
        default=['512x1024', '640x1280', '768x1536', '1024x2048'],
        help='crops to try, HxW, smallest first')
    parser.add_argument(
        '--methods',
        nargs='+',
        default=['e2e', 'k2', 'k4'],
        help='e2e and/or k<N>, each with +cp for activation checkpointing '
        '(e.g. e2e+cp; default: e2e k2 k4)')
    parser.add_argument(
        '--amp',
        choices=['both', 'on', 'off'],
        default='both',
        help='mixed precision variants')
    parser.add_argument(
        '--margin',
        type=float,
        default=0.1,
        help='fraction of the budget kept free for what one step does not '
        'show (CUDA context, workers, fragmentation); as tools/train.py '
        '--memory-margin')
    parser.add_argument('--device', choices=['cuda', 'cpu'], default='cuda')
    parser.add_argument(
        '--max-batch', type=int, default=32, help='largest batch to consider')
    parser.add_argument(
        '--batch',
        type=int,
        help='instead of the largest batch per crop: the largest crop of the '
        'first --crops\' aspect ratio (up to twice its side, in steps of 32, '
        'as tools/train.py --fit crop) that fits this batch')
    parser.add_argument('--out', help='write the table and trials as JSON')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='config overrides, key=value (mmseg syntax)')
    args = parser.parse_args()
    try:
        args.budget_bytes = parse_size(args.budget, '--budget')
        args.crop_sizes = sorted((parse_crop(c) for c in args.crops),
                                 key=lambda c: c[0] * c[1])
        for m in args.methods:
            if parse_case(m)['amp'] or parse_case(m)['split']:
                raise ValueError(f'method {m!r}: give e2e or k<N>, with '
                                 f'+cp for activation checkpointing; AMP is '
                                 f'--amp.')
    except ValueError as e:
        parser.error(str(e))
    if args.max_batch < 1 or (args.batch is not None and args.batch < 1):
        parser.error('--max-batch and --batch must be >= 1')
    try:
        check_margin(args.margin, '--margin')
    except ValueError as e:
        parser.error(str(e))
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda but torch sees no CUDA device; use '
                     '--device cpu for the measured CPU mode')
    return args


def main() -> None:
    args = parse_args()
    try:  # before minutes of measuring
        check_case_config(args.config, args.cfg_options, args.out)
    except (ConfigError, OutputError) as e:
        sys.exit(f'error: {e}')
    amps = {'both': [False, True], 'on': [True], 'off': [False]}[args.amp]
    table, trials, notes = {}, [], []
    for method in args.methods:
        for amp in amps:
            spec = method + ('+amp' if amp else '')
            print(f'{spec}:', flush=True)
            search = BudgetSearch(
                args.config,
                args.budget_bytes,
                spec,
                args.device,
                margin=args.margin,
                cfg_options=args.cfg_options,
                max_batch=args.max_batch,
                log=lambda line: print(line, flush=True))
            try:
                search.predict_from_planner(args.crop_sizes[0])
                row = table[spec] = {}
                if args.batch:
                    crop = search.largest_crop(args.batch,
                                               args.crop_sizes[0])
                    row[f'batch {args.batch}'] = 'none' if crop is None \
                        else f'{crop[0]}x{crop[1]}'
                for h, w in [] if args.batch else args.crop_sizes:
                    # Nothing fits a larger crop where a smaller fits none.
                    row[f'{h}x{w}'] = search.largest_batch(
                        (h, w)) if not row or any(row.values()) else 0
            except RuntimeError as e:
                sys.exit(f'error: {e}')
            trials += search.trials
            notes = search.notes
    crops = [f'batch {args.batch}'] if args.batch else [
        f'{h}x{w}' for h, w in args.crop_sizes
    ]
    for note in notes:
        print(f'note: {note}')
    what = 'crop' if args.batch else 'batch'
    print(f'\nlargest {what} per GPU within {args.budget} less '
          f'{args.margin:.0%} ({args.device}; 0 = does not fit)')
    print('| method | ' + ' | '.join(crops) + ' |')
    print('|---|' + '---|' * len(crops))
    for spec, row in table.items():
        print(f'| {spec} | ' + ' | '.join(str(row[c]) for c in crops) + ' |')
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with replaced_atomically(args.out) as tmp, open(tmp, 'w') as f:
            json.dump(
                dict(
                    config=args.config,
                    budget=args.budget,
                    margin=args.margin,
                    device=args.device,
                    table=table,
                    environment=environment(args.device),
                    trials=trials),
                f,
                indent=2)
        print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
