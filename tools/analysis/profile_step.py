"""Where the time of one training step goes, part by part: E2E vs InfoPro.

Builds every case in this one process (as ``benchmark_memory.py`` does, on
random images and labels) and times their real ``train_step`` calls
interleaved (E2E, K = 2, E2E, K = 2, ...), so that the machine's drift hits
every case alike: medians over ``--iters`` rounds, and each case's step
time over E2E's in the same round (median, min and max of these ratios).

The parts are timed at the seams of the training step, with no change to
what it computes:

- ``preprocess``: the data preprocessor;
- ``m<i>.fwd`` / ``m<i>.bwd``: local module i's backbone elements;
- ``m<i>.task.fwd|bwd``: its local task head with its loss;
- ``m<i>.recon.fwd|bwd``: its reconstruction decoder, target and loss;
- ``heads.fwd|bwd``: the last module's decode (and auxiliary) heads with
  their losses (for E2E: the heads after the whole backbone);
- ``optimizer``: the optimizer step and ``zero_grad``;
- ``other``: the rest of the step (loss parsing, logging variables).

A backward is cut at gradients: torch's autograd runs the nodes made later
first, so within one module's backward the reconstruction decoder (made
last) finishes, then the task head, then the heads' input receives its whole
gradient and the backbone's backward begins; the tool timestamps each of
these moments with tensor hooks on aliases of the heads' inputs.

Example:
    python tools/analysis/profile_step.py \\
        configs/camvid/deeplabv3plus-infopro-k2_<...>.py \\
        --cases e2e k2 --batch 8 --crop 256 352 --iters 5 --out prof.json
"""
import argparse
import json
import os
import statistics
import sys
import time
from collections import defaultdict
from typing import Callable, Dict, List

import torch

from mmseg_infopro.analysis import (build_case, check_case_config, environment,
                                    parse_case)
from mmseg_infopro.utils import (ConfigError, OutputError, parse_cfg_options,
                                 replaced_atomically)


class StepClock:
    """Timestamps of one training step at the seams of a segmentor.

    Wraps (instance attributes, nothing of the class changes) the data
    preprocessor, the backbone's forward (``forward_local_module`` for
    InfoPro), the local heads' task and reconstruction branches, the final
    heads' loss and the optim wrapper's ``backward``, ``step`` and
    ``zero_grad``, and registers gradient hooks on aliases of the tensors
    the heads read.

    Args:
        model: An ``EncoderDecoder`` or ``InfoProEncoderDecoder``, built.
        optim_wrapper: Its optim wrapper.
        sync (Callable): Waits for the device (CUDA) before a timestamp.
    """

    def __init__(self, model, optim_wrapper, sync: Callable[[], None]):
        self.sync = sync
        self.parts: Dict[str, float] = defaultdict(float)
        self._module = 0
        self._marks: List[tuple] = []  # (name, time) within a backward
        infopro = hasattr(model, 'module_loss')  # trained module-wise
        self._wrap(model.data_preprocessor, 'forward', lambda: 'preprocess')
        if infopro:
            backbone = model.backbone
            run = backbone.forward_local_module

            def forward_local_module(module, x):
                self._module = module
                start = self._now()
                out, outs = run(module, x)
                self.parts[f'm{module + 1}.fwd'] += self._now() - start
                # The heads read the output as such (local heads) or as a
                # stage output (final heads).
                alias = self._alias(out, f'm{module + 1}.heads_done')
                outs = {s: alias if t is out else t for s, t in outs.items()}
                return alias, outs

            backbone.forward_local_module = forward_local_module
            for i, head in enumerate(model.local_heads):
                self._wrap_local_head(i, head)
        else:
            self._wrap_e2e_backbone(model)
        self._wrap_final_heads(model, infopro)
        self._wrap(optim_wrapper, 'backward', None, self._backward)
        self._wrap(optim_wrapper, 'step', lambda: 'optimizer')
        self._wrap(optim_wrapper, 'zero_grad', lambda: 'optimizer')

    # ------------------------------------------------------------------
    def _now(self) -> float:
        self.sync()
        return time.perf_counter()

    def _wrap(self, obj, name: str, part: Callable[[], str],
              around: Callable = None) -> None:
        inner = getattr(obj, name)

        def timed(*args, **kwargs):
            if around is not None:
                return around(inner, *args, **kwargs)
            start = self._now()
            result = inner(*args, **kwargs)
            self.parts[part()] += self._now() - start
            return result

        setattr(obj, name, timed)

    def _alias(self, tensor, mark: str):
        """``tensor`` through a view whose gradient, when it arrives,
        timestamps ``mark`` (only in a backward that records marks)."""
        if not tensor.requires_grad:
            return tensor
        alias = tensor.view_as(tensor)
        alias.register_hook(lambda grad: self._marks.append(
            (mark, self._now())) or grad)
        return alias

    def _wrap_local_head(self, i: int, head) -> None:
        prefix = f'm{i + 1}'
        if head.task_head is not None:
            task_loss = head.task_head.loss

            def task(inputs, *args, **kwargs):
                start = self._now()
                inputs = [
                    self._alias(x, f'{prefix}.task_done') for x in inputs
                ]
                result = task_loss(inputs, *args, **kwargs)
                self.parts[f'{prefix}.task.fwd'] += self._now() - start
                return result

            head.task_head.loss = task
        if head.recon_head is not None:
            loss = head.loss
            recon = head.recon_head.forward

            def recon_forward(x, *args, **kwargs):
                return recon(self._alias(x, f'{prefix}.recon_done'), *args,
                             **kwargs)

            def local_loss(feat, inputs, data_samples):
                start = self._now()
                before = self.parts[f'{prefix}.task.fwd']
                result = loss(feat, inputs, data_samples)
                task = self.parts[f'{prefix}.task.fwd'] - before
                self.parts[f'{prefix}.recon.fwd'] += \
                    self._now() - start - task
                return result

            head.recon_head.forward = recon_forward
            head.loss = local_loss

    def _wrap_e2e_backbone(self, model) -> None:
        backbone = model.backbone
        forward = backbone.forward

        def backbone_forward(x):
            start = self._now()
            outs = forward(x)
            self.parts['m1.fwd'] += self._now() - start
            outs = list(outs)
            outs[-1] = self._alias(outs[-1], 'm1.heads_done')
            return outs

        backbone.forward = backbone_forward

    def _wrap_final_heads(self, model, infopro: bool) -> None:
        if infopro:
            self._wrap(model, '_final_heads_loss', lambda: 'heads.fwd')
        else:
            for name in ('_decode_head_forward_train',
                         '_auxiliary_head_forward_train'):
                self._wrap(model, name, lambda: 'heads.fwd')

    def _backward(self, inner, loss, *args, **kwargs):
        """One module's backward, cut at the marks its hooks set."""
        self._marks = []
        module = f'm{self._module + 1}'
        start = self._now()
        result = inner(loss, *args, **kwargs)
        end = self._now()
        marks = dict(self._marks)
        self._marks = []
        last = start
        for mark, part in ((f'{module}.recon_done', f'{module}.recon.bwd'),
                           (f'{module}.task_done', f'{module}.task.bwd')):
            if mark in marks:
                self.parts[part] += marks[mark] - last
                last = marks[mark]
        done = marks.get(f'{module}.heads_done', last)
        # Without local heads this module's heads are the final ones.
        if last == start:
            self.parts['heads.bwd'] += done - start
        else:
            self.parts[f'{module}.heads_glue.bwd'] += done - last
        self.parts[f'{module}.bwd'] += end - done
        return result


def profile(cases, iters: int, warmup: int, sync) -> Dict[str, Dict]:
    """Interleaved steps of every case; per case every timed step's seconds
    by part (``'step'``: the whole step) in the order they ran."""
    clocks = {
        name: StepClock(c.model, c.optim_wrapper, sync)
        for name, c in cases.items()
    }
    samples = {name: defaultdict(list) for name in cases}
    for i in range(warmup + iters):
        for name, c in cases.items():
            clock = clocks[name]
            clock.parts.clear()
            sync()
            start = time.perf_counter()
            c.model.train_step(c.data, c.optim_wrapper)
            sync()
            total = time.perf_counter() - start
            if i < warmup:
                continue
            parts = dict(clock.parts)
            parts['other'] = total - sum(parts.values())
            parts['step'] = total
            for part, seconds in parts.items():
                samples[name][part].append(seconds)
    return {name: dict(parts) for name, parts in samples.items()}


def medians(samples: Dict[str, Dict]) -> Dict[str, Dict]:
    """Per case and part, the median over the timed steps."""
    return {
        name: {part: statistics.median(v) for part, v in parts.items()}
        for name, parts in samples.items()
    }


def paired_ratios(samples: Dict[str, Dict],
                  reference: str = 'e2e') -> Dict[str, Dict]:
    """Per case, its step time over the reference's in the same round of
    the interleaved steps: median, min and max over the rounds (the drift
    of a shared machine cancels within a round)."""
    ref = samples.get(reference)
    if ref is None:
        return {}
    out = {}
    for name, parts in samples.items():
        ratios = [a / b for a, b in zip(parts['step'], ref['step'])]
        out[name] = dict(
            median=statistics.median(ratios), min=min(ratios),
            max=max(ratios))
    return out


def format_table(samples: Dict[str, Dict], batch: int) -> str:
    results = medians(samples)
    ratios = paired_ratios(samples)
    names = list(results)
    ref = results.get('e2e')
    order = []
    for r in results.values():
        order += [p for p in r if p not in order and p != 'step']
    lines = [
        '| part | ' + ' | '.join(f'{n} ms' for n in names) + ' |',
        '|---|' + '---|' * len(names)
    ]
    for part in order + ['step']:
        cells = [
            f"{r[part] * 1e3:.0f}" if part in r else '–'
            for r in results.values()
        ]
        label = f'**{part}**' if part == 'step' else part
        lines.append(f'| {label} | ' + ' | '.join(cells) + ' |')
    per_image = [f"{r['step'] / batch * 1e3:.0f}" for r in results.values()]
    lines.append('| ms per image | ' + ' | '.join(per_image) + ' |')
    if ref:
        lines.append('| × E2E (paired median, min–max) | ' + ' | '.join(
            f"{r['median']:.2f} ({r['min']:.2f}–{r['max']:.2f})"
            for r in ratios.values()) + ' |')
    return '\n'.join(lines)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config (InfoPro or its E2E twin)')
    parser.add_argument(
        '--cases', nargs='+', default=['e2e', 'k2'],
        help='cases as in benchmark_memory.py: e2e, e2e+cp, k2, k2+cp, ...')
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument(
        '--crop', type=int, nargs=2, default=(256, 352), metavar=('H', 'W'))
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    parser.add_argument('--iters', type=int, default=5, help='timed steps')
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--out', help='write the medians as JSON here')
    parser.add_argument('--cfg-options', nargs='+', default=[])
    args = parser.parse_args()
    if args.batch < 1 or args.iters < 1 or args.warmup < 0:
        parser.error('--batch and --iters must be >= 1, --warmup >= 0')
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda but torch sees no CUDA device')
    return args


def main() -> None:
    args = parse_args()
    try:
        for spec in args.cases:
            parse_case(spec)
        check_case_config(args.config, args.cfg_options, args.out)
        options = parse_cfg_options(args.cfg_options)
    except (ValueError, ConfigError, OutputError) as e:
        sys.exit(f'error: {e}')
    cases = {
        spec: build_case(args.config, spec, args.batch, args.crop,
                         args.device, options)
        for spec in args.cases
    }
    sync = torch.cuda.synchronize if args.device == 'cuda' else lambda: None
    samples = profile(cases, args.iters, args.warmup, sync)
    splits = {
        spec: list(getattr(c.model.backbone, 'split_points', None) or [])
        for spec, c in cases.items()
    }
    table = format_table(samples, args.batch)
    print(table)
    if args.out:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        with replaced_atomically(args.out) as tmp, open(tmp, 'w') as f:
            json.dump(
                dict(
                    config=args.config,
                    batch=args.batch,
                    crop=list(args.crop),
                    device=args.device,
                    iters=args.iters,
                    threads=torch.get_num_threads(),
                    split_points=splits,
                    seconds=medians(samples),
                    ratio_to_e2e=paired_ratios(samples),
                    samples=samples,
                    environment=environment(args.device)),
                f,
                indent=2)
        print(f'wrote {args.out}')


if __name__ == '__main__':
    main()
