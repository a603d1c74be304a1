"""Find the largest per-GPU batch and crop that train within a memory budget.

For E2E and InfoPro (K = 2, 4, ...), with and without mixed precision, this
answers "what does my GPU allow?" by running real training steps: on CUDA
under ``torch.cuda.set_per_process_memory_fraction(budget / card memory)``
(a step that runs out of memory does not fit); on CPU, a measured mode
compares the peak resident-set growth (activations and gradients) with the
budget. Memory is about linear in the batch, so two runs at the smallest crop
predict every crop's largest batch; a search from that prediction then
finds, by running them, a batch that fits next to one that does not.

Examples:
    python tools/analysis/fit.py configs/deeplabv3_infopro_cityscapes.py \\
        --budget 24GB --device cuda
    python tools/analysis/fit.py CONFIG --budget 600MB --device cpu \\
        --crops 128x256 256x512 --methods e2e k2
"""
import argparse
import json
import math
import os
import re
import sys
from typing import Dict, List, Tuple

import torch

from mmseg_infopro.analysis import (check_case_config, environment, parse_case,
                                    run_case)
from mmseg_infopro.engine import OutputError, replaced_atomically
from mmseg_infopro.models.utils import ConfigError

UNITS = {'': 1, 'B': 1, 'KB': 2**10, 'MB': 2**20, 'GB': 2**30, 'TB': 2**40}


def parse_budget(text: str) -> int:
    """'24GB' -> bytes (binary units: 1 GB = 2**30 bytes)."""
    match = re.fullmatch(r'\s*([0-9.]+)\s*([KMGT]?B?|[KMGT]iB)\s*',
                         text.upper().replace('IB', 'B'))
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f'--budget {text!r}: use a size such as 24GB or '
                         f'800MB.')
    return int(float(match.group(1)) * UNITS[match.group(2)])


def parse_crop(text: str) -> Tuple[int, int]:
    match = re.fullmatch(r'([1-9]\d*)x([1-9]\d*)', text)
    if not match:
        raise ValueError(f'crop {text!r} must look like 512x1024 (HxW).')
    return int(match.group(1)), int(match.group(2))


class Prober:
    """Runs trials (one process each) and remembers their results."""

    def __init__(self, args: argparse.Namespace, budget: int) -> None:
        self.args, self.budget = args, budget
        self.fraction = None
        if args.device == 'cuda':
            total = torch.cuda.get_device_properties(0).total_memory
            if budget > total:
                raise ValueError(f'--budget exceeds the card '
                                 f'({total / 2**30:.1f} GB).')
            self.fraction = budget / total
        self.trials: List[Dict] = []
        self._done: Dict[tuple, Dict] = {}

    def run(self, spec: str, batch: int, crop: Tuple[int, int]) -> Dict:
        key = (spec, batch, tuple(crop))
        if key in self._done:
            return self._done[key]
        r = run_case(
            self.args.config,
            spec,
            batch,
            crop,
            self.args.device,
            iters=1,
            warmup=1,
            cfg_options=self.args.cfg_options,
            memory_fraction=self.fraction)
        if r['fits'] and self.args.device == 'cpu':
            r['fits'] = r['peak_mb'] * 2**20 <= self.budget
        self.trials.append(r)
        self._done[key] = r
        print(
            f"  {spec} batch {batch} {crop[0]}x{crop[1]}: "
            f"{'fits' if r['fits'] else 'does not fit'}" +
            (f" ({r['peak_mb']:.0f} MB)" if 'peak_mb' in r else ''),
            flush=True)
        return r

    def largest_batch(self, spec: str,
                      crops: List[Tuple[int, int]]) -> Dict[str, int]:
        """Largest batch for every crop (0: not even batch 1 fits)."""
        base = crops[0]
        one = self.run(spec, 1, base)
        if not one['fits']:
            return {f'{h}x{w}': 0 for h, w in crops}
        two = self.run(spec, 2, base)
        per_sample = (two['peak_mb'] - one['peak_mb']) if two['fits'] \
            else one['peak_mb']
        fixed = one['peak_mb'] - per_sample
        found = {}
        for h, w in crops:
            scale = h * w / (base[0] * base[1])
            guess = math.floor(
                (self.budget / 2**20 - fixed) / max(per_sample * scale, 1e-6))
            # Gallop from the prediction until a batch that fits lies next
            # to one that does not, bisecting once both bounds are known.
            fits, fails, step = 0, self.args.max_batch + 1, 1
            batch = max(1, min(guess, self.args.max_batch))
            while fails - fits > 1:
                if self.run(spec, batch, (h, w))['fits']:
                    fits, batch = batch, batch + step
                else:
                    fails, batch = batch, batch - step
                step *= 2
                if not fits < batch < fails:
                    batch = (fits + fails) // 2
            found[f'{h}x{w}'] = fits
        return found


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
        help='e2e and/or k<N> (default: e2e k2 k4)')
    parser.add_argument(
        '--amp',
        choices=['both', 'on', 'off'],
        default='both',
        help='mixed precision variants')
    parser.add_argument('--device', choices=['cuda', 'cpu'], default='cuda')
    parser.add_argument(
        '--max-batch', type=int, default=32, help='largest batch to consider')
    parser.add_argument('--out', help='write the table and trials as JSON')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='config overrides, key=value (mmseg syntax)')
    args = parser.parse_args()
    try:
        args.budget_bytes = parse_budget(args.budget)
        args.crop_sizes = sorted((parse_crop(c) for c in args.crops),
                                 key=lambda c: c[0] * c[1])
        for m in args.methods:
            if '+' in m:
                raise ValueError(f'method {m!r}: give e2e or k<N>; AMP is '
                                 f'--amp.')
            parse_case(m)
    except ValueError as e:
        parser.error(str(e))
    if args.max_batch < 1:
        parser.error('--max-batch must be >= 1')
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
    prober = Prober(args, args.budget_bytes)
    amps = {'both': [False, True], 'on': [True], 'off': [False]}[args.amp]
    table = {}
    for method in args.methods:
        for amp in amps:
            spec = method + ('+amp' if amp else '')
            print(f'{spec}:', flush=True)
            try:
                table[spec] = prober.largest_batch(spec, args.crop_sizes)
            except RuntimeError as e:
                sys.exit(f'error: {e}')
    crops = [f'{h}x{w}' for h, w in args.crop_sizes]
    print(f'\nlargest batch per GPU within {args.budget} '
          f'({args.device}; 0 = does not fit)')
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
                    device=args.device,
                    table=table,
                    environment=environment(args.device),
                    trials=prober.trials),
                f,
                indent=2)
        print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
