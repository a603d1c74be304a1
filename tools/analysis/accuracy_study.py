"""Train configs x seeds through tools/train.py; tabulate final val IoU.

Every run is a normal training process with ``randomness.seed=S`` in
``WORK_DIR/<name>/seed<S>``. Finished runs leave ``OUT/runs/<name>/
seed<S>.json`` (and ``seed<S>.log``, the telling lines of its training
log) and are skipped when the study is started again (an
interrupted run resumes from its last checkpoint), so a long study can be
stopped and continued. After every run, ``OUT/summary.{json,md,png}`` are
rewritten: mIoU mean ± std over seeds, Δ to the reference method (paired by
seed), per-class IoU, minutes and peak RSS per run.

Give configs (named by their file name) and/or methods with their own
overrides (``--run NAME CONFIG key=value ...``). Validation metrics need a
val loop at the end of training; ``PerClassIoUMetric`` (the CamVid configs'
evaluator) adds per-class IoU.

Examples:
    python tools/analysis/accuracy_study.py configs/camvid/A.py \\
        configs/camvid/B.py --seeds 0 1 2 --out docs/benchmarks/camvid/a
    python tools/analysis/accuracy_study.py --seeds 0 1 2 --out OUT \\
        --run e2e-b2 configs/camvid/A.py train_dataloader.batch_size=2 \\
        --run k2-b4 configs/camvid/B.py train_dataloader.batch_size=4
"""
import argparse
import json
import os
import os.path as osp
import sys
import time

from study_runs import (format_markdown, plan_runs, plot_summary,  # beside
                        run_training, save_run_log, summarise)

from mmseg_infopro.analysis import environment


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        'configs', nargs='*', help='configs, each a method named after it')
    parser.add_argument(
        '--run',
        nargs='+',
        action='append',
        default=[],
        metavar='NAME CONFIG [KEY=VALUE',
        help='a method with overrides: NAME CONFIG [key=value ...]')
    parser.add_argument(
        '--seeds', type=int, nargs='+', default=[0, 1, 2], help='seeds')
    parser.add_argument(
        '--out', required=True, help='results folder (keep it: reruns skip '
        'what it holds)')
    parser.add_argument(
        '--work-dir',
        help='training work dirs (default: work_dirs/<OUT name>)')
    parser.add_argument(
        '--reference', help='method Δ is taken to (default: the first)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        default=[],
        help='overrides for every run, key=value')
    parser.add_argument(
        '--title', default='', help='title of the chart')
    parser.add_argument(
        '--collect-only',
        action='store_true',
        help='only rebuild the summary from finished runs')
    parser.add_argument(
        '--dry-run', action='store_true', help='print the plan and stop')
    args = parser.parse_args()
    methods = [
        dict(
            name=osp.splitext(osp.basename(c))[0],
            config=c,
            options=list(args.cfg_options)) for c in args.configs
    ]
    for spec in args.run:
        if len(spec) < 2 or any('=' in s for s in spec[:2]):
            parser.error(f'--run {" ".join(spec)}: give NAME CONFIG '
                         f'[key=value ...]')
        bad = [s for s in spec[2:] if '=' not in s]
        if bad:
            parser.error(f'--run {spec[0]}: {bad[0]!r} is not key=value')
        methods.append(
            dict(
                name=spec[0],
                config=spec[1],
                options=list(args.cfg_options) + spec[2:]))
    if not methods:
        parser.error('give at least one config or --run')
    args.methods = methods
    names = [m['name'] for m in methods]
    args.reference = args.reference or names[0]
    if args.reference not in names:
        parser.error(f'--reference {args.reference!r} is none of {names}')
    args.work_dir = args.work_dir or osp.join(
        'work_dirs', osp.basename(osp.normpath(args.out)))
    return args


def write_summary(args: argparse.Namespace, runs) -> None:
    results = []
    for run in runs:
        if run.finished:
            with open(run.result) as f:
                results.append(json.load(f))
    names = [m['name'] for m in args.methods]
    summary = summarise(results, names, args.reference)
    summary.update(
        methods_cfg=args.methods,
        seeds=args.seeds,
        environment=environment('cpu'),
        runs=results)
    with open(osp.join(args.out, 'summary.json'), 'w') as f:
        json.dump(summary, f, indent=2)
    with open(osp.join(args.out, 'summary.md'), 'w') as f:
        f.write(format_markdown(summary))
    if results:
        plot_summary(summary, results, osp.join(args.out, 'summary.png'),
                     args.title)


def main() -> None:
    args = parse_args()
    try:
        runs = plan_runs(args.methods, args.seeds, args.work_dir, args.out)
    except ValueError as e:
        sys.exit(f'error: {e}')
    os.makedirs(args.out, exist_ok=True)
    todo = [r for r in runs if not r.finished]
    print(f'{len(runs)} runs, {len(runs) - len(todo)} finished, '
          f'{len(todo)} to train', flush=True)
    if args.dry_run:
        for run in todo:
            print(' '.join(run.command()))
        return
    if not args.collect_only:
        for i, run in enumerate(runs, 1):
            label = f'[{i}/{len(runs)}] {run.name} seed {run.seed}'
            if run.finished:
                if not osp.isfile(run.log):  # a run finished elsewhere
                    save_run_log(run)
                print(f'{label}: finished, skipped', flush=True)
                continue
            print(f'{label}: training ({run.work_dir}/train.log) ...',
                  flush=True)
            start = time.time()
            try:
                result = run_training(run)
            except RuntimeError as e:
                write_summary(args, runs)
                sys.exit(f'error: {e}')
            print(f'{label}: mIoU {result["mIoU"]:.2f} '
                  f'({(time.time() - start) / 60:.1f} min)', flush=True)
            write_summary(args, runs)
    write_summary(args, runs)
    with open(osp.join(args.out, 'summary.md')) as f:
        print(f.read())


if __name__ == '__main__':
    main()
