"""Plot the JSON of benchmark_memory.py: peak memory and s/iter per case.

Example:
    python tools/analysis/plot_memory.py \
        docs/benchmarks/cpu_r101-d8_2x256x512.json
"""
import argparse
import json
import os.path as osp
import sys

import matplotlib

matplotlib.use('Agg')  # files only; no display needed
import matplotlib.pyplot as plt  # noqa: E402

from mmseg_infopro.utils import (OutputError, check_output_file,  # noqa: E402
                                 replaced_atomically)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('json', help='output of benchmark_memory.py --out')
    parser.add_argument(
        '--out', help='PNG to write (default: JSON name '
        'with .png)')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace an existing PNG')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        with open(args.json) as f:
            report = json.load(f)
        results = report['results']
    except (OSError, ValueError, KeyError) as e:
        sys.exit(f'error: {args.json} is not a benchmark_memory.py result '
                 f'({e}).')
    out = args.out or osp.splitext(args.json)[0] + '.png'
    try:
        check_output_file(out, [args.json], args.overwrite)
    except OutputError as e:
        sys.exit(f'error: {e}')
    names = [r['case'] for r in results]
    e2e = next((r for r in results if r['case'] == 'e2e'), None)
    fig, axes = plt.subplots(1, 2, figsize=(4 + 1.3 * len(names), 4))
    for ax, key, label in ((axes[0], 'peak_mb', 'peak memory (MB)'),
                           (axes[1], 'sec_per_iter', 'seconds / iteration')):
        values = [r[key] for r in results]
        colors = [
            'tab:gray' if n.startswith('e2e') else 'tab:blue' for n in names
        ]
        bars = ax.bar(names, values, color=colors)
        if e2e:
            for bar, v in zip(bars, values):
                ax.annotate(
                    f'{v / e2e[key]:.2f}×',
                    (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha='center',
                    va='bottom',
                    fontsize=8)
        ax.set_ylabel(label)
        ax.tick_params(axis='x', rotation=30)
    env = report.get('environment', {})
    device = env.get('gpu') or f"CPU ({env.get('cpus', '?')} cores)"
    crop = 'x'.join(map(str, report.get('crop', [])))
    fig.suptitle(
        f"batch {report.get('batch')}, {crop}, {device}, "
        f"torch {env.get('torch', '?')}",
        fontsize=9)
    fig.tight_layout()
    with replaced_atomically(out) as tmp:
        fig.savefig(tmp, dpi=120, format='png')
    print(f'wrote {out}')


if __name__ == '__main__':
    main()
