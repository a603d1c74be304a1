"""Test (and evaluate) a segmentor: mmseg 1.x's tools/test.py with
mmseg_infopro loaded and the test set checked before any worker starts.

Example:
    python tools/test.py CONFIG CHECKPOINT [--out DIR] [--show-dir DIR] [--tta]
"""
import argparse
import copy
import os
import os.path as osp
import sys

from mmengine.config import Config
from mmengine.logging import print_log
from mmseg.registry import DATASETS, RUNNERS

import mmseg_infopro  # noqa: F401  (registers the InfoPro modules)
from mmseg_infopro.datasets import DatasetCheckError, check_dataloader_cfgs
from mmseg_infopro.engine import InfoProRunner, SegTestVisualizationHook
from mmseg_infopro.preflight import (build_model_shapes, load_runner_config,
                                     setup_distributed, split_from_checkpoint)
from mmseg_infopro.utils import (CfgOptionsAction, CheckpointError,
                                 OutputError, check_output_folder,
                                 check_outputs_new, check_outputs_spare_inputs,
                                 config_errors_as_one_line,
                                 load_checkpoint_file, misfit_weights)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='MMSeg test (and eval) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument(
        '--work-dir', help='the dir to save the metrics as json')
    parser.add_argument('--out', help='dir to save the predicted label maps')
    parser.add_argument(
        '--show', action='store_true', help='show prediction results')
    parser.add_argument(
        '--show-dir',
        help='folder for painted predictions, one per test image (a '
        'relative one goes inside work_dir/timestamp/)')
    parser.add_argument(
        '--show-interval',
        type=int,
        default=1,
        help='with --show/--show-dir, paint one test batch in this many '
        '(default 1: every image)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace files an earlier run wrote into --out/--show-dir')
    parser.add_argument(
        '--wait-time', type=float, default=2, help='the interval of show (s)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=CfgOptionsAction,
        help='override config settings (key=value, mmseg syntax)')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument(
        '--tta', action='store_true', help='test time augmentation')
    parser.add_argument(
        '--skip-data-check',
        action='store_true',
        help='do not read every image and label before testing')
    parser.add_argument(
        '--debug',
        action='store_true',
        help='show the traceback of a configuration error (one error: line '
        'without it)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def draw_test_predictions(cfg: Config, args: argparse.Namespace) -> None:
    """Set the config's visualization hook to paint every
    ``--show-interval``-th test batch into ``--show-dir`` (or a window)."""
    if args.show_interval < 1:
        raise ValueError(f'--show-interval must be >= 1, got '
                         f'{args.show_interval}.')
    hook = cfg.default_hooks.get('visualization')
    kind = None if hook is None else hook.get('type')
    kind = getattr(kind, '__name__', str(kind)).split('.')[-1]
    if kind not in ('SegVisualizationHook', 'SegTestVisualizationHook'):
        raise ValueError(
            f'--show/--show-dir draw through default_hooks.visualization of '
            f'type SegVisualizationHook, which {args.config} does not have '
            f'(it has {hook!r}).')
    if args.show_dir:
        check_output_folder(osp.join(cfg.work_dir, args.show_dir),
                            '--show-dir')
    # mmseg's hook would draw one batch in 50, through the visualizer's
    # backends, and build the train dataloader for its step number.
    hook.update(
        type='SegTestVisualizationHook',
        draw=True,
        interval=args.show_interval,
        test_out_dir=args.show_dir)
    if args.show:
        hook.update(show=True, wait_time=args.wait_time)


def check_test_outputs(cfg: Config, args: argparse.Namespace) -> None:
    """Stop if ``--out`` or ``--show-dir`` would write over a file of the
    test set (both name their files after the images) or, without
    ``--overwrite``, over an earlier run's."""
    dataset = DATASETS.build(copy.deepcopy(cfg.test_dataloader.dataset))
    infos = [dataset.get_data_info(i) for i in range(len(dataset))]
    inputs = [
        info[key] for info in infos for key in ('img_path', 'seg_map_path')
        if info.get(key)
    ]
    outputs = {}
    if args.out is not None:
        # mmseg's IoUMetric (and CityscapesMetric) naming of label maps.
        outputs['--out'] = [
            osp.join(args.out,
                     osp.splitext(osp.basename(info['img_path']))[0] + '.png')
            for info in infos
        ]
    if args.show_dir:
        # A relative folder lies under work_dir/<timestamp>/; one that
        # climbs out of it ('../..') does not depend on the timestamp.
        out_dir = osp.normpath(
            osp.join(cfg.work_dir, 'timestamp', args.show_dir))
        img_root = (getattr(dataset, 'data_prefix', None)
                    or {}).get('img_path')
        outputs['--show-dir'] = [
            SegTestVisualizationHook.drawing_path(out_dir, info['img_path'],
                                                  img_root) for info in infos
        ]
    for flag, paths in outputs.items():
        check_outputs_spare_inputs(flag, paths, inputs, 'test')
        if not args.overwrite:
            check_outputs_new(flag, paths)


def run(args: argparse.Namespace) -> None:
    """Test as the command line says."""
    if not osp.isfile(args.config):
        sys.exit(f'error: config {args.config!r} does not exist.')
    try:
        cfg = load_runner_config(args.config, args.cfg_options,
                                 args.work_dir, args.launcher)
    except ValueError as e:
        sys.exit(f'error: {e}')
    try:
        checkpoint = load_checkpoint_file(args.checkpoint)
        if args.out is not None:
            check_output_folder(args.out)
    except (CheckpointError, OutputError) as e:
        sys.exit(f'error: {e}')
    # An automatic split is never measured for testing: the checkpoint's is
    # set before the Runner builds (and, with --launcher, wraps) the model.
    taken = split_from_checkpoint(cfg, args.checkpoint)
    if taken:
        print_log(
            f'InfoPro: split_points={taken[1]} as recorded in {taken[0]}.',
            logger='current')
    # Evaluating a model whose weights did not load measures random weights
    # (mmengine only warns): the backbone and decode head must fit.
    model = build_model_shapes(cfg)
    problems = misfit_weights(model.state_dict(),
                              checkpoint.get('state_dict', checkpoint),
                              ('backbone.', 'decode_head.'))
    del model, checkpoint
    if problems:
        sys.exit(f'error: {args.checkpoint} does not fit the model of '
                 f'{args.config}: {len(problems)} backbone/decode head '
                 f'weights are missing or of another shape, e.g. '
                 f'{problems[0]}. Is it a checkpoint of another config?')
    cfg.load_from = args.checkpoint

    if args.show or args.show_dir:
        try:
            draw_test_predictions(cfg, args)
        except ValueError as e:  # OutputError among them
            sys.exit(f'error: {e}')
    if args.tta:
        if not cfg.get('tta_pipeline') or not cfg.get('tta_model'):
            sys.exit(f'error: --tta needs tta_pipeline and tta_model in '
                     f'{args.config} (mmseg\'s dataset configs and '
                     f'default_runtime.py define them).')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.out is not None:
        cfg.test_evaluator['output_dir'] = args.out
        cfg.test_evaluator['keep_results'] = True

    # Every process checks the layout; one per machine reads every file.
    read_files = not args.skip_data_check and os.environ['LOCAL_RANK'] == '0'
    try:
        check_dataloader_cfgs(cfg, ('test_dataloader', ), read_files)
    except DatasetCheckError as e:
        sys.exit(f'error: {e}')
    if args.out is not None or args.show_dir:
        try:
            check_test_outputs(cfg, args)
        except OutputError as e:
            sys.exit(f'error: {e}')
    try:
        setup_distributed(cfg)
    except ValueError as e:
        sys.exit(f'error: {e}')
    runner = InfoProRunner.from_cfg(cfg) if 'runner_type' not in cfg \
        else RUNNERS.build(cfg)
    runner.test()


def main() -> None:
    args = parse_args()
    with config_errors_as_one_line(args.debug):
        run(args)


if __name__ == '__main__':
    main()
