"""Write the synthetic Cityscapes-format dataset (the project's default data).

Example:
    python tools/dataset_converters/synthetic_cityscapes.py \
        data/synthetic_cityscapes --num-train 48 --num-val 12 \
        --size 256 512 --seed 0
"""
import argparse
import sys

from mmseg_infopro.datasets import write_synthetic_cityscapes


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Generate procedural street scenes in the Cityscapes '
        'layout (leftImg8bit/, gtFine/ with labelTrainIds and labelIds).')
    parser.add_argument('out', help='output root (must be empty or absent)')
    parser.add_argument(
        '--num-train',
        type=int,
        default=48,
        help='training images (default: 48)')
    parser.add_argument(
        '--num-val',
        type=int,
        default=12,
        help='validation images (default: 12)')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=(256, 512),
        metavar=('H', 'W'),
        help='image height and width (default: 256 512)')
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='random seed; same seed, same files (default: 0)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace leftImg8bit/ and gtFine/ of a non-empty '
        'OUT')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        paths = write_synthetic_cityscapes(args.out,
                                           args.num_train, args.num_val,
                                           tuple(args.size), args.seed,
                                           args.overwrite)
    except (FileExistsError, ValueError) as e:
        sys.exit(f'error: {e}')
    print(f'\nwrote {len(paths)} images with labels to {args.out}')


if __name__ == '__main__':
    main()
