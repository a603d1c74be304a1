"""Train a grid of configs x seeds and collect their final validation IoU.

The engine behind ``accuracy_study.py`` next to it (a tool's module, not
the package's). Every run is an
ordinary ``tools/train.py`` process (``--cfg-options randomness.seed=S``
plus the run's own overrides) in its own work dir. A finished run leaves
``OUT/runs/<name>/seed<S>.json``; a study that is stopped and started again
skips those and resumes an interrupted run from its last checkpoint, so a
study can span several sessions.
"""
import ast
import json
import math
import os
import os.path as osp
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

from mmengine.config import Config

__all__ = [
    'StudyRun', 'plan_runs', 'run_training', 'save_run_log',
    'read_final_metrics', 'read_iteration_seconds', 'summarise',
    'format_markdown', 'plot_summary'
]

#: The split a run trained: measured, or taken from the checkpoint it
#: resumed (``InfoPro: [K=2, ][automatic ]split_points=(6,)...``).
SPLIT_LOG = re.compile(
    r'InfoPro: (?:K=\d+, )?(?:automatic )?split_points=(\([0-9, ]*\))')
#: mmengine's line when an attempt continues from a checkpoint.
RESUMED_LOG = re.compile(r'resumed epoch: \d+, iter: (\d+)')
#: The lines of a training log that a study keeps next to its results: the
#: commands, the split, training and validation progress, checkpoints and
#: resumption (not the environment dump or the config).
RUN_LOG_LINES = re.compile(
    r'^\$ |InfoPro:|Iter\(|Saving checkpoint|[Rr]esumed|Resuming|--resume|'
    r'Load.* checkpoint|^error:|Error:|Traceback')


@dataclass
class StudyRun:
    """One training run of a study.

    Args:
        name (str): The method's name in the tables (one per config and
            override set).
        config (str): The config file.
        seed (int): ``randomness.seed``.
        options (list[str]): Extra ``key=value`` overrides of this method.
        work_dir (str): Where tools/train.py writes logs and checkpoints.
        result (str): The JSON written when the run has finished.
    """
    name: str
    config: str
    seed: int
    options: List[str] = field(default_factory=list)
    work_dir: str = ''
    result: str = ''

    @property
    def finished(self) -> bool:
        return osp.isfile(self.result)

    @property
    def log(self) -> str:
        """The run's training log kept with its result (``seed<S>.log``)."""
        return osp.splitext(self.result)[0] + '.log'

    def command(self, python: str = sys.executable) -> List[str]:
        """The tools/train.py command line (``--resume`` if the work dir
        already holds a checkpoint of an interrupted attempt)."""
        cmd = [
            python, 'tools/train.py', self.config, '--work-dir',
            self.work_dir, '--cfg-options', f'randomness.seed={self.seed}',
            *self.options
        ]
        if osp.isfile(osp.join(self.work_dir, 'last_checkpoint')):
            cmd.append('--resume')
        return cmd


def plan_runs(methods: Sequence[Dict], seeds: Sequence[int], work_dir: str,
              out: str) -> List[StudyRun]:
    """Runs of every method (``dict(name, config, options)``) x seed, seed
    by seed, so that a partial study has every method at its first seeds.

    Raises:
        ValueError: For duplicate method names or a missing config.
    """
    names = [m['name'] for m in methods]
    if len(set(names)) != len(names):
        raise ValueError(f'method names must be unique, got {names}; name '
                         f'them with --run NAME CONFIG ...')
    for m in methods:
        if not osp.isfile(m['config']):
            raise ValueError(f'config {m["config"]!r} does not exist.')
    return [
        StudyRun(
            name=m['name'],
            config=m['config'],
            seed=seed,
            options=list(m.get('options', [])),
            work_dir=osp.join(work_dir, m['name'], f'seed{seed}'),
            result=osp.join(out, 'runs', m['name'], f'seed{seed}.json'))
        for seed in seeds for m in methods
    ]


def _latest_scalars(work_dir: str) -> Optional[str]:
    """``<timestamp>/vis_data/scalars.json`` of the newest attempt that
    logged anything."""
    found = []
    if osp.isdir(work_dir):
        for stamp in os.listdir(work_dir):
            path = osp.join(work_dir, stamp, 'vis_data', 'scalars.json')
            if osp.isfile(path):
                found.append(path)
    return max(found, default=None)


def read_final_metrics(work_dir: str) -> Dict:
    """The last validation metrics (``mIoU``, ``aAcc``, ``mAcc``,
    ``IoU.<class>``), their iteration, and the per-iteration training
    batch the log saw, from mmengine's ``scalars.json``.

    Raises:
        RuntimeError: If no validation was logged.
    """
    path = _latest_scalars(work_dir)
    last = None
    if path:
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if 'mIoU' in entry:
                    last = entry
    if last is None:
        raise RuntimeError(f'no validation result under {work_dir!r}: did '
                           f'the training reach its val_interval?')
    per_class = {
        k[len('IoU.'):]: v
        for k, v in last.items() if k.startswith('IoU.')
    }
    return dict(
        iter=last.get('step'),
        mIoU=last['mIoU'],
        aAcc=last.get('aAcc'),
        mAcc=last.get('mAcc'),
        per_class=per_class)


def read_iteration_seconds(work_dir: str) -> Optional[float]:
    """The median seconds per training iteration over every attempt's
    logged windows (mmengine logs each ``logger.interval``'s mean time).

    A median, unlike the wall time, hardly moves when something else
    shares the cores for part of a run, or when a run is paused.
    """
    times = []
    if osp.isdir(work_dir):
        for stamp in sorted(os.listdir(work_dir)):
            path = osp.join(work_dir, stamp, 'vis_data', 'scalars.json')
            if osp.isfile(path):
                with open(path) as f:
                    times += [
                        entry['time'] for entry in map(json.loads, f)
                        if 'loss' in entry and 'time' in entry
                    ]
    return statistics.median(times) if times else None


def _split_points(log_path: str) -> Optional[List[int]]:
    """The split the training log reports (None if explicit or K = 1: the
    config says it then)."""
    if not osp.isfile(log_path):
        return None
    with open(log_path, errors='replace') as f:
        found = SPLIT_LOG.findall(f.read())
    return list(ast.literal_eval(found[-1])) if found else None


def _resumed_iter(log_path: str) -> int:
    """The iteration the last attempt in ``log_path`` (the text after its
    last ``$ command`` line) resumed from; 0 if it started afresh."""
    with open(log_path, errors='replace') as f:
        last = f.read().rsplit('\n$ ', 1)[-1]
    found = RESUMED_LOG.findall(last)
    return int(found[-1]) if found else 0


def _wait(proc: subprocess.Popen) -> float:
    """Wait for ``proc``; its peak resident set (MB) with its waited-for
    children, from wait4 (``getrusage`` would give the maximum over all
    runs so far)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024


def run_training(run: StudyRun, python: str = sys.executable) -> Dict:
    """Train one run (appending its output to ``work_dir/train.log``) and
    write its result JSON.

    Returns:
        dict: The result: name, config, seed, options, metrics, split
        points, wall time of this attempt and the iterations it trained
        (``iters_timed``, fewer than ``iter`` if it resumed), the median
        seconds per iteration of all attempts (``sec_per_iter``), peak RSS.

    Raises:
        RuntimeError: If training fails (naming its log) or logged no
            validation.
    """
    os.makedirs(run.work_dir, exist_ok=True)
    log_path = osp.join(run.work_dir, 'train.log')
    cmd = run.command(python)
    start = time.time()
    with open(log_path, 'a') as log:
        log.write(f'\n$ {" ".join(cmd)}\n')
        log.flush()
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONUNBUFFERED='1'))
        max_rss_mb = _wait(proc)
    wall = time.time() - start
    if proc.returncode != 0:
        with open(log_path, errors='replace') as f:
            tail = f.read()[-3000:]
        raise RuntimeError(f'{run.name} seed {run.seed} failed (exit '
                           f'{proc.returncode}); log {log_path}:\n{tail}')
    # The config as trained (mmengine dumps it into the work dir).
    trained = Config.fromfile(osp.join(run.work_dir, osp.basename(run.config)))
    batch = trained.train_dataloader.batch_size
    result = dict(
        name=run.name,
        config=run.config,
        seed=run.seed,
        options=run.options,
        batch_size=batch,
        images_seen=batch * trained.train_cfg.max_iters,
        **read_final_metrics(run.work_dir),
        split_points=_split_points(log_path),
        wall_s=round(wall, 1),
        resumed='--resume' in cmd,
        iters_timed=trained.train_cfg.max_iters - _resumed_iter(log_path),
        sec_per_iter=read_iteration_seconds(run.work_dir),
        max_rss_mb=round(max_rss_mb))
    os.makedirs(osp.dirname(run.result), exist_ok=True)
    with open(run.result, 'w') as f:
        json.dump(result, f, indent=2)
    save_run_log(run)
    return result


def save_run_log(run: StudyRun) -> bool:
    """Keep the telling lines of ``work_dir/train.log`` (every attempt) as
    ``run.log`` next to the run's result.

    Returns:
        bool: False if the work dir holds no training log.
    """
    source = osp.join(run.work_dir, 'train.log')
    if not osp.isfile(source):
        return False
    with open(source, errors='replace') as f:
        kept = [line for line in f if RUN_LOG_LINES.search(line)]
    os.makedirs(osp.dirname(run.log), exist_ok=True)
    with open(run.log, 'w') as f:
        f.writelines(kept)
    return True


def _mean_std(values: Sequence[float]) -> Dict:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return dict(mean=float('nan'), std=float('nan'), n=0)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return dict(mean=statistics.fmean(values), std=std, n=len(values))


def _run_wall_s(result: Dict) -> float:
    """Seconds for the whole run: a resumed run timed only its last
    attempt, which is scaled to the full schedule (time per iteration does
    not depend on where the schedule is)."""
    timed = result.get('iters_timed') or result.get('iter')
    if not timed or not result.get('iter'):
        return result['wall_s']
    return result['wall_s'] * result['iter'] / timed


def summarise(results: Sequence[Dict], names: Sequence[str],
              reference: Optional[str]) -> Dict:
    """Mean ± std over seeds per method, in ``names`` order, with Δ mIoU to
    ``reference`` (over the seeds both have, paired) and the wall time of a
    whole run (resumed runs scaled from their last attempt)."""
    by_name = {n: [r for r in results if r['name'] == n] for n in names}
    ref = {r['seed']: r['mIoU'] for r in by_name.get(reference, [])}
    methods = []
    for name, runs in by_name.items():
        if not runs:
            continue
        classes = list(runs[0]['per_class'])
        entry = dict(
            name=name,
            seeds=sorted(r['seed'] for r in runs),
            mIoU=_mean_std([r['mIoU'] for r in runs]),
            mAcc=_mean_std([r['mAcc'] for r in runs]),
            per_class={
                c: _mean_std([r['per_class'].get(c, math.nan) for r in runs])
                for c in classes
            },
            batch_size=runs[0].get('batch_size'),
            images_seen=runs[0].get('images_seen'),
            wall_s=_mean_std([_run_wall_s(r) for r in runs]),
            sec_per_iter=_mean_std(
                [r.get('sec_per_iter') or math.nan for r in runs]),
            max_rss_mb=_mean_std([r['max_rss_mb'] for r in runs]),
            split_points=runs[0].get('split_points'))
        paired = [r['mIoU'] - ref[r['seed']] for r in runs if r['seed'] in ref]
        entry['delta_mIoU'] = _mean_std(paired) if name != reference and \
            paired else None
        methods.append(entry)
    return dict(reference=reference, methods=methods)


def format_markdown(summary: Dict) -> str:
    """The summary as Markdown: one row per method, then per-class IoU."""
    ref = summary['reference']
    lines = [
        f'| method | batch | images seen | seeds | mIoU | Δ to {ref} | mAcc '
        f'| min/run |', '|---|---|---|---|---|---|---|---|'
    ]
    for m in summary['methods']:
        delta = m['delta_mIoU']
        delta = '–' if delta is None else \
            f"{delta['mean']:+.2f} ± {delta['std']:.2f}"
        lines.append(
            f"| {m['name']} | {m['batch_size'] or '–'} | "
            f"{m['images_seen'] or '–'} | {len(m['seeds'])} | "
            f"{m['mIoU']['mean']:.2f} ± {m['mIoU']['std']:.2f} | {delta} | "
            f"{m['mAcc']['mean']:.2f} | {m['wall_s']['mean'] / 60:.1f} |")
    if summary['methods']:
        classes = list(summary['methods'][0]['per_class'])
        lines += [
            '', '| method | ' + ' | '.join(classes) + ' |',
            '|---|' + '---|' * len(classes)
        ]
        for m in summary['methods']:
            lines.append(f"| {m['name']} | " + ' | '.join(
                f"{m['per_class'][c]['mean']:.1f}" for c in classes) + ' |')
    return '\n'.join(lines) + '\n'


def plot_summary(summary: Dict, results: Sequence[Dict], path: str,
                 title: str = '') -> None:
    """mIoU per method (bars: mean, dots: seeds) and per-class IoU."""
    import matplotlib
    matplotlib.use('Agg')  # files only
    import matplotlib.pyplot as plt
    methods = summary['methods']
    fig, (ax1, ax2) = plt.subplots(
        1, 2, figsize=(13, 4), gridspec_kw=dict(width_ratios=[1, 2.4]))
    xs = range(len(methods))
    ax1.bar(
        xs, [m['mIoU']['mean'] for m in methods],
        yerr=[m['mIoU']['std'] for m in methods],
        color='#8fb3d9',
        capsize=4)
    for x, m in zip(xs, methods):
        seeds = [r['mIoU'] for r in results if r['name'] == m['name']]
        ax1.plot([x] * len(seeds), seeds, 'k.', ms=5)
    ax1.set_xticks(list(xs), [m['name'] for m in methods],
                   rotation=30,
                   ha='right')
    ax1.set_ylabel('val mIoU (%)')
    low = min((r['mIoU'] for r in results), default=0)
    ax1.set_ylim(max(0, low - 5), None)
    if methods:
        classes = list(methods[0]['per_class'])
        width = 0.8 / len(methods)
        for i, m in enumerate(methods):
            ax2.bar([c + i * width for c in range(len(classes))],
                    [m['per_class'][c]['mean'] for c in classes],
                    width,
                    label=m['name'])
        ax2.set_xticks([c + 0.4 - width / 2 for c in range(len(classes))],
                       classes,
                       rotation=30,
                       ha='right')
        ax2.set_ylabel('val IoU (%), mean over seeds')
        ax2.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
