"""Segment one image with mmseg's inference API and save the overlay.

Works for this project's configs and checkpoints (and plain mmseg ones).

Example:
    python demo/image_demo.py IMG CONFIG CHECKPOINT --out-file overlay.png
"""
import argparse
import os.path as osp
import sys

import cv2
import torch
from mmseg.apis import inference_model, init_model, show_result_pyplot

import mmseg_infopro  # noqa: F401  (registers the InfoPro modules)
from mmseg_infopro.preflight import build_model_shapes
from mmseg_infopro.utils import (CheckpointError, ConfigError, OutputError,
                                 check_output_file, load_checkpoint_file,
                                 load_config)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('img', help='image file')
    parser.add_argument('config', help='config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-file', help='where to write the overlay PNG')
    parser.add_argument(
        '--device',
        default='cpu',
        help='device, e.g. cpu or cuda:0 (default: cpu)')
    parser.add_argument(
        '--opacity',
        type=float,
        default=0.5,
        help='opacity of the painted segmentation (0, 1]')
    parser.add_argument(
        '--with-labels',
        action='store_true',
        help='write class names on the overlay')
    parser.add_argument('--title', default='result', help='figure title')
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    for name in ('img', 'config', 'checkpoint'):
        if not osp.isfile(getattr(args, name)):
            sys.exit(f'error: {name} {getattr(args, name)!r} does not exist.')
    if not 0 < args.opacity <= 1:
        sys.exit(f'error: --opacity must be in (0, 1], got {args.opacity}.')
    try:
        device = torch.device(args.device)
    except RuntimeError as e:
        sys.exit(f'error: --device {args.device!r}: {e}')
    if device.type == 'cuda' and (device.index or 0) >= (
            torch.cuda.device_count()):
        sys.exit(f'error: --device {args.device}, but torch sees '
                 f'{torch.cuda.device_count()} CUDA device(s); use '
                 f'--device cpu or another index.')
    if cv2.imread(args.img) is None:
        sys.exit(f'error: img {args.img!r} is not an image that decodes.')
    if args.out_file:
        try:
            check_output_file(
                args.out_file, (args.img, args.config, args.checkpoint),
                overwrite=True,
                makes_folder=True)
        except OutputError as e:
            sys.exit(f'error: --out-file {e}')
    try:
        cfg = load_config(args.config)
        build_model_shapes(cfg)  # mmseg's setting checks, as one line
        load_checkpoint_file(args.checkpoint)
        model = init_model(cfg, args.checkpoint, device=args.device)
        result = inference_model(model, args.img)
    except (ConfigError, CheckpointError) as e:  # the user's, not a bug
        sys.exit(f'error: {e}')
    show_result_pyplot(
        model,
        args.img,
        result,
        title=args.title,
        opacity=args.opacity,
        with_labels=args.with_labels,
        draw_gt=False,
        show=False,
        out_file=args.out_file)
    if args.out_file:
        print(f'wrote {args.out_file}')


if __name__ == '__main__':
    main()
