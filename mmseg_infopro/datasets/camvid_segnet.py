"""Convert CamVid from the SegNet layout to mmseg's ``img_dir/``/``ann_dir/``.

Most public CamVid copies follow the SegNet tutorial's layout::

    SRC/train/*.png  SRC/trainannot/*.png   (and val/, valannot/, test/, ...)

with single-channel labels of class ids 0-10 and 11 = void. The converted
set is what :class:`~mmseg_infopro.datasets.CamVidDataset` reads::

    OUT/img_dir/{train,val,test}/*.png   OUT/ann_dir/{train,val,test}/*.png

with void as 255 (mmseg's ignore index).
"""
import os
import os.path as osp
import shutil
from typing import Dict, List, Tuple

import cv2
import numpy as np
from mmengine.utils import track_progress
from PIL import Image

__all__ = [
    'CamVidConversionError', 'find_segnet_splits', 'convert_pair',
    'convert_segnet_camvid'
]

SPLITS = ('train', 'val', 'test')
NUM_CLASSES = 11
VOID = 11
IGNORE_INDEX = 255


class CamVidConversionError(ValueError):
    """A source that cannot be converted; the message names the folder or
    file and what to do."""


def find_segnet_splits(src: str) -> Dict[str, List[Tuple[str, str]]]:
    """The (image, annotation) pairs of every split found under ``src``.

    Args:
        src (str): The CamVid root of the SegNet layout.

    Returns:
        dict[str, list[tuple[str, str]]]: Split name -> sorted pairs.

    Raises:
        CamVidConversionError: If ``src`` has none of ``train/``, ``val/``,
            ``test/``, a split lacks its ``<split>annot/`` folder or any
            images, or an image has no annotation of the same name.
    """
    if not osp.isdir(src):
        raise CamVidConversionError(f'{src!r} does not exist.')
    found = [s for s in SPLITS if osp.isdir(osp.join(src, s))]
    if not found:
        raise CamVidConversionError(
            f'{src!r} is not CamVid in the SegNet layout: expected train/ '
            f'and trainannot/, val/ and valannot/ (test/ and testannot/ '
            f'optional), found {sorted(os.listdir(src))[:10]}. Point SRC at '
            f'the folder that holds them.')
    pairs = {}
    for split in found:
        img_dir, ann_dir = osp.join(src, split), osp.join(src, split + 'annot')
        if not osp.isdir(ann_dir):
            raise CamVidConversionError(
                f'{img_dir!r} has no annotation folder {ann_dir!r}.')
        images = sorted(f for f in os.listdir(img_dir) if f.endswith('.png'))
        if not images:
            raise CamVidConversionError(f'no *.png images in {img_dir!r}.')
        missing = [
            f for f in images if not osp.isfile(osp.join(ann_dir, f))
        ]
        if missing:
            raise CamVidConversionError(
                f'{len(missing)} of {len(images)} images in {img_dir!r} have '
                f'no annotation of the same name in {ann_dir!r}, e.g. '
                f'{missing[0]!r}.')
        pairs[split] = [(osp.join(img_dir, f), osp.join(ann_dir, f))
                        for f in images]
    return pairs


def _resize(array: np.ndarray, scale: float, nearest: bool) -> np.ndarray:
    if scale == 1:
        return array
    h, w = array.shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if nearest:
        interpolation = cv2.INTER_NEAREST
    else:
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(array, size, interpolation=interpolation)


def convert_pair(image: str, annotation: str, out_image: str,
                 out_annotation: str, scale: float = 1.0) -> None:
    """Convert one image and its label (void -> 255), resized by ``scale``.

    Raises:
        CamVidConversionError: For an unreadable file, a label that is not
            a single-channel id map, or ids outside 0-11.
    """
    img = cv2.imread(image, cv2.IMREAD_COLOR)
    if img is None:
        raise CamVidConversionError(f'{image}: unreadable image.')
    try:
        with Image.open(annotation) as f:
            # Pillow keeps palette ('P') images as their indices: class ids.
            label = np.array(f)
    except OSError as e:
        raise CamVidConversionError(
            f'{annotation}: unreadable label ({e}).') from e
    if label.ndim != 2:
        raise CamVidConversionError(
            f'{annotation}: a label must be a single-channel map of class '
            f'ids, got shape {label.shape} (a colour visualisation?).')
    if label.shape != img.shape[:2]:
        raise CamVidConversionError(
            f'{annotation}: label size {label.shape} differs from its '
            f'image {image} ({img.shape[:2]}).')
    ids = np.unique(label)
    bad = [int(i) for i in ids if i > VOID]
    if bad:
        raise CamVidConversionError(
            f'{annotation}: label ids {bad} are outside 0..{VOID} '
            f'({NUM_CLASSES} classes and {VOID} = void).')
    label = np.where(label == VOID, IGNORE_INDEX, label).astype(np.uint8)
    os.makedirs(osp.dirname(out_image), exist_ok=True)
    os.makedirs(osp.dirname(out_annotation), exist_ok=True)
    cv2.imwrite(out_image, _resize(img, scale, nearest=False))
    cv2.imwrite(out_annotation, _resize(label, scale, nearest=True))


def convert_segnet_camvid(src: str,
                          out: str,
                          scale: float = 1.0,
                          overwrite: bool = False) -> Dict[str, int]:
    """Convert every split of a SegNet-layout CamVid root (with a progress
    bar per split).

    Args:
        src (str): The SegNet-layout root (``train/``, ``trainannot/``, ...).
        out (str): The output root; ``img_dir/`` and ``ann_dir/`` go there.
        scale (float): Resize factor for images (area/bilinear) and labels
            (nearest). Defaults to 1.0.
        overwrite (bool): Replace an existing ``img_dir/``/``ann_dir/`` in
            ``out``. Defaults to False.

    Returns:
        dict[str, int]: Number of converted pairs per split.

    Raises:
        CamVidConversionError: For a bad source (see
            :func:`find_segnet_splits` and :func:`convert_pair`), a
            ``scale`` <= 0, or existing output without ``overwrite``.
    """
    if not scale > 0:
        raise CamVidConversionError(f'scale must be > 0, got {scale}.')
    pairs = find_segnet_splits(src)
    targets = [osp.join(out, d) for d in ('img_dir', 'ann_dir')]
    existing = [d for d in targets if osp.exists(d)]
    if existing and not overwrite:
        raise CamVidConversionError(
            f'{existing[0]!r} exists; pass --overwrite to replace '
            f'{" and ".join(existing)}.')
    for d in existing:
        shutil.rmtree(d)
    counts = {}
    for split, split_pairs in pairs.items():
        print(f'{split}: {len(split_pairs)} images', flush=True)
        track_progress(
            lambda pair, split=split: convert_pair(
                *pair,
                osp.join(out, 'img_dir', split, osp.basename(pair[0])),
                osp.join(out, 'ann_dir', split, osp.basename(pair[1])),
                scale), split_pairs)
        counts[split] = len(split_pairs)
    return counts
