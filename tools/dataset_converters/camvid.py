"""Convert CamVid from the SegNet layout to mmseg's img_dir/ + ann_dir/.

SRC holds ``train/``, ``trainannot/``, ``val/``, ``valannot/`` (and
optionally ``test/``, ``testannot/``) with label ids 0-10 and 11 = void;
OUT gets ``img_dir/{split}/`` and ``ann_dir/{split}/`` with void as 255, as
``CamVidDataset`` (``configs/camvid/``) reads them.

Example:
    python tools/dataset_converters/camvid.py ../shared/camvid/CamVid \
        data/camvid
    python tools/dataset_converters/camvid.py CamVid data/camvid-half \
        --scale 0.5
"""
import argparse
import sys

from mmseg_infopro.datasets import CamVidConversionError, convert_segnet_camvid


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Convert CamVid (SegNet layout) to mmseg img_dir/ and '
        'ann_dir/ (void -> 255)')
    parser.add_argument('src', help='root with train/, trainannot/, ...')
    parser.add_argument('out', help='output root')
    parser.add_argument(
        '--scale',
        type=float,
        default=1.0,
        help='resize factor (images: area/bilinear, labels: nearest); '
        'default 1')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace an existing OUT/img_dir and OUT/ann_dir')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        counts = convert_segnet_camvid(args.src, args.out, args.scale,
                                       args.overwrite)
    except CamVidConversionError as e:
        sys.exit(f'error: {e}')
    print('\nconverted ' +
          ', '.join(f'{n} {split}' for split, n in counts.items()) +
          f' images to {args.out}')


if __name__ == '__main__':
    main()
