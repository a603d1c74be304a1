"""Convert Cityscapes polygon annotations to ``*_gtFine_labelTrainIds.png``.

mmseg's CityscapesDataset reads train-id label maps; the official archives
ship polygons (``*_gtFine_polygons.json``). This uses cityscapesscripts'
own converter, in parallel, with a progress bar.

Example:
    python tools/dataset_converters/cityscapes.py data/cityscapes --nproc 8
"""
import argparse
import glob
import os.path as osp
import sys
from functools import partial

from cityscapesscripts.preparation.json2labelImg import json2labelImg
from mmengine.utils import track_parallel_progress, track_progress


def convert_json(json_file: str, overwrite: bool) -> None:
    label_file = json_file.replace('_polygons.json', '_labelTrainIds.png')
    if overwrite or not osp.exists(label_file):
        json2labelImg(json_file, label_file, 'trainIds')


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert Cityscapes polygons to labelTrainIds PNGs')
    parser.add_argument(
        'cityscapes_path', help='root holding leftImg8bit/ and gtFine/')
    parser.add_argument(
        '--gt-dir', default='gtFine', help='annotation folder under the root')
    parser.add_argument(
        '--nproc', type=int, default=1, help='worker processes')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='re-create label maps that already exist')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    gt_dir = osp.join(args.cityscapes_path, args.gt_dir)
    if not osp.isdir(gt_dir):
        sys.exit(f'error: {gt_dir!r} does not exist; unpack '
                 f'gtFine_trainvaltest.zip into {args.cityscapes_path} '
                 f'(docs/dataset_prepare.md).')
    files = sorted(
        glob.glob(
            osp.join(gt_dir, '**', '*_gtFine_polygons.json'), recursive=True))
    if not files:
        sys.exit(f'error: no *_gtFine_polygons.json under {gt_dir!r}.')
    task = partial(convert_json, overwrite=args.overwrite)
    if args.nproc > 1:
        track_parallel_progress(task, files, args.nproc)
    else:
        track_progress(task, files)
    print(f'\nconverted {len(files)} annotations under {gt_dir}')


if __name__ == '__main__':
    main()
