"""Convert Cityscapes annotations to ``*_gtFine_labelTrainIds.png``.

mmseg's CityscapesDataset reads train-id label maps. The official archives
ship polygons (``*_gtFine_polygons.json``), converted here with
cityscapesscripts' own converter; where only ``*_gtFine_labelIds.png`` exist
(as in some copies), their ids are mapped to train ids (cityscapesscripts'
label table, 255 for ignored classes). In parallel, with a progress bar.

Example:
    python tools/dataset_converters/cityscapes.py data/cityscapes --nproc 8
"""
import argparse
import glob
import os.path as osp
import sys
from functools import partial

import numpy as np
from cityscapesscripts.helpers.labels import labels as CITYSCAPES_LABELS
from cityscapesscripts.preparation.json2labelImg import json2labelImg
from mmengine.utils import track_parallel_progress, track_progress
from PIL import Image

ID_TO_TRAIN_ID = np.full(256, 255, dtype=np.uint8)
for _label in CITYSCAPES_LABELS:
    if 0 <= _label.id < 256 and 0 <= _label.trainId < 255:
        ID_TO_TRAIN_ID[_label.id] = _label.trainId


def convert_json(json_file: str, overwrite: bool) -> None:
    label_file = json_file.replace('_polygons.json', '_labelTrainIds.png')
    if overwrite or not osp.exists(label_file):
        json2labelImg(json_file, label_file, 'trainIds')


def convert_label_ids(ids_file: str, overwrite: bool) -> None:
    label_file = ids_file.replace('_labelIds.png', '_labelTrainIds.png')
    if overwrite or not osp.exists(label_file):
        with Image.open(ids_file) as f:
            ids = np.array(f)
        Image.fromarray(ID_TO_TRAIN_ID[ids]).save(label_file)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert Cityscapes polygons (or labelIds PNGs) to '
        'labelTrainIds PNGs')
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
    convert = convert_json
    if not files:
        files = sorted(
            glob.glob(
                osp.join(gt_dir, '**', '*_gtFine_labelIds.png'),
                recursive=True))
        convert = convert_label_ids
    if not files:
        sys.exit(f'error: no *_gtFine_polygons.json or *_gtFine_labelIds.png '
                 f'under {gt_dir!r}.')
    task = partial(convert, overwrite=args.overwrite)
    if args.nproc > 1:
        track_parallel_progress(task, files, args.nproc)
    else:
        track_progress(task, files)
    print(f'\nconverted {len(files)} annotations under {gt_dir}')


if __name__ == '__main__':
    main()
