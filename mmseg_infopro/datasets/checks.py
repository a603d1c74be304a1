"""Validate a segmentation dataset config before any dataloader starts.

mmseg finds a missing folder, an unreadable file or a label id out of range
only deep inside a dataloader worker (or as a CUDA assert in the loss). These
checks run in the main process at start-up, on the dataset config, and stop
with a message that names the offending folder or file and the fix.
"""
import inspect
import os
import os.path as osp
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Tuple

import mmcv
import numpy as np
from mmengine.config import ConfigDict
from mmseg.registry import DATASETS
from PIL import Image

from ..utils import leaf_dataset_cfgs

__all__ = ['DatasetCheckError', 'check_dataset_cfg', 'check_dataloader_cfgs']

#: Per dataset class: how to prepare it, and what label ids out of range
#: usually mean.
HINTS = {
    'CityscapesDataset':
    dict(
        prepare=('Prepare Cityscapes as described in docs/dataset_prepare.md, '
                 'or generate the synthetic stand-in with `python '
                 'tools/dataset_converters/synthetic_cityscapes.py {root}`.'),
        bad_ids='is it a *_labelIds.png instead of *_labelTrainIds.png?'),
    'CamVidDataset':
    dict(
        prepare=('Convert CamVid (SegNet layout: train/, trainannot/, ...) '
                 'with `python tools/dataset_converters/camvid.py SRC {root}` '
                 '(docs/dataset_prepare.md).'),
        bad_ids=('SegNet-layout labels (void = 11) must be converted first: '
                 'tools/dataset_converters/camvid.py.')),
}
GENERIC_HINTS = dict(
    prepare='Prepare the data as described in docs/dataset_prepare.md.',
    bad_ids='check the label maps against the dataset\'s classes.')
CONVERT_HINT = ('The annotations are not converted to train ids yet: run '
                '`python tools/dataset_converters/cityscapes.py {root}` '
                '(docs/dataset_prepare.md).')


class DatasetCheckError(ValueError):
    """A dataset that cannot be trained on; the message says why and how
    to fix it."""


def _dataset_class(cfg: ConfigDict) -> type:
    cls = DATASETS.get(cfg['type']) if isinstance(cfg['type'],
                                                  str) else cfg['type']
    if cls is None:
        raise DatasetCheckError(
            f'dataset type {cfg["type"]!r} is not registered in mmseg.')
    return cls


def _dataset_args(cfg: ConfigDict) -> dict:
    """The dataset's arguments with the class defaults filled in."""
    cls = _dataset_class(cfg)
    args = {}
    for klass in reversed(cls.__mro__):
        if klass is object:
            continue
        for name, p in inspect.signature(klass.__init__).parameters.items():
            if p.default is not inspect.Parameter.empty:
                args[name] = p.default
    args.update(cfg)
    args.setdefault('ignore_index', 255)
    args['num_classes'] = len((cfg.get('metainfo') or {}).get('classes')
                              or cls.METAINFO['classes'])
    return args


def _find(folder: str, suffix: str) -> List[str]:
    found = []
    for root, _, files in os.walk(folder, followlinks=True):
        found.extend(
            osp.relpath(osp.join(root, f), folder) for f in files
            if f.endswith(suffix))
    return sorted(found)


def _check_image(path: str) -> Tuple[Optional[str], Optional[tuple]]:
    """An error for an unreadable image, else its (H, W).

    PNG's ``verify`` checks every chunk's checksum, which catches truncated
    files; JPEG and the other formats are decoded, as ``verify`` does not
    read their image data."""
    try:
        with Image.open(path) as img:
            size = img.size[::-1]
            if img.format == 'PNG':
                img.verify()
            else:
                img.load()
    except Exception as e:  # any decoder error means "unreadable"
        return f'{path}: unreadable image ({type(e).__name__}: {e})', None
    return None, size


def _check_label(path: str, num_classes: int, ignore_index: int,
                 reduce_zero_label: bool, bad_ids_hint: str
                 ) -> Tuple[Optional[str], Optional[tuple]]:
    """An error for a label that is not a usable id map, else its (H, W).

    Read as mmseg's ``LoadAnnotations`` reads it (Pillow, unchanged): a
    palette PNG gives its indices, i.e. the class ids."""
    try:
        label = mmcv.imread(path, flag='unchanged', backend='pillow')
    except Exception as e:
        return (f'{path}: unreadable label file ({type(e).__name__}: {e})',
                None)
    if label is None:
        return f'{path}: unreadable label file', None
    if label.ndim != 2:
        return (f'{path}: label must be a single-channel id map, got shape '
                f'{label.shape} (a colour visualisation?)'), None
    ids = np.unique(label)
    # With reduce_zero_label, 0 becomes the ignore index and k becomes k-1.
    top = num_classes if reduce_zero_label else num_classes - 1
    bad = [int(i) for i in ids if i > top and i != ignore_index]
    if bad:
        return (f'{path}: label ids {bad} are outside 0..{top} '
                f'and {ignore_index} (ignore); {bad_ids_hint}'), None
    return None, label.shape


def _check_pair(image: str, label: str, num_classes: int, ignore_index: int,
                reduce_zero_label: bool, bad_ids_hint: str) -> List[str]:
    """Errors of one image and its label, their sizes compared."""
    image_error, image_size = _check_image(image)
    label_error, label_size = _check_label(label, num_classes, ignore_index,
                                           reduce_zero_label, bad_ids_hint)
    errors = [e for e in (image_error, label_error) if e]
    if not errors and image_size != label_size:
        errors.append(
            f'{label}: label size {label_size[1]}x{label_size[0]} (WxH) '
            f'differs from its image {image} ({image_size[1]}x'
            f'{image_size[0]}); mmseg would resize or fail on it')
    return errors


def check_dataset_cfg(cfg: ConfigDict,
                      name: str = 'dataset',
                      check_content: bool = True,
                      num_threads: Optional[int] = None) -> int:
    """Check that a dataset config points at usable data.

    Checks that ``data_root`` and the image/label folders exist, that the
    split is not empty, that every image has its label and, with
    ``check_content``, that every image decodes, every label is a
    single-channel map (read as mmseg reads it) whose ids are in
    ``0..num_classes-1`` or ``ignore_index``, and that each label has the
    size of its image. Wrappers with ``dataset``/``datasets`` are checked
    recursively; datasets without ``data_prefix`` folders are skipped.

    Args:
        cfg (ConfigDict): The dataset config (e.g.
            ``cfg.train_dataloader.dataset``).
        name (str): Where the config sits, for the messages.
        check_content (bool): Also read every file. Defaults to True.
        num_threads (int, optional): Threads for reading. Defaults to the
            number of CPUs.

    Returns:
        int: The number of (image, label) pairs checked.

    Raises:
        DatasetCheckError: With a message naming the folder or files and
            the fix.
    """
    return sum(
        _check_leaf_dataset(leaf, where, check_content, num_threads)
        for where, leaf in leaf_dataset_cfgs(cfg, name))


def _check_leaf_dataset(cfg: ConfigDict, name: str, check_content: bool,
                        num_threads: Optional[int]) -> int:
    """:func:`check_dataset_cfg` of a dataset that wraps no other."""
    args = _dataset_args(cfg)
    hints = HINTS.get(_dataset_class(cfg).__name__, GENERIC_HINTS)
    root = args.get('data_root') or ''
    prefix = args.get('data_prefix') or {}
    if root and not osp.isdir(root):
        raise DatasetCheckError(f'{name}.data_root {root!r} does not exist. ' +
                                hints['prepare'].format(root=root))
    img_dir = osp.join(root, prefix.get('img_path', ''))
    seg_dir = osp.join(root, prefix.get('seg_map_path', ''))
    if not osp.isdir(img_dir):
        raise DatasetCheckError(
            f'{name}: image folder {img_dir!r} does not exist. ' +
            hints['prepare'].format(root=root or img_dir))
    img_suffix, seg_suffix = args['img_suffix'], args['seg_map_suffix']
    images = _find(img_dir, img_suffix)
    if not images:
        raise DatasetCheckError(
            f'{name}: no "*{img_suffix}" images under {img_dir!r}; the split '
            f'is empty. ' + hints['prepare'].format(root=root or img_dir))
    if not osp.isdir(seg_dir):
        raise DatasetCheckError(
            f'{name}: label folder {seg_dir!r} does not exist. ' +
            hints['prepare'].format(root=root or seg_dir))
    pairs: List[Tuple[str, str]] = []
    missing = []
    for rel in images:
        seg = osp.join(seg_dir, rel[:-len(img_suffix)] + seg_suffix)
        pairs.append((osp.join(img_dir, rel), seg))
        if not osp.isfile(seg):
            missing.append(seg)
    if missing:
        raw = _find(seg_dir, '_gtFine_polygons.json') or _find(
            seg_dir, '_gtFine_labelIds.png')
        hint = CONVERT_HINT.format(root=root) if raw else \
            hints['prepare'].format(root=root or seg_dir)
        raise DatasetCheckError(
            f'{name}: {len(missing)} of {len(images)} images have no '
            f'"*{seg_suffix}" label, e.g. {missing[0]!r}. ' + hint)
    if check_content:
        with ThreadPoolExecutor(num_threads or os.cpu_count()) as pool:
            errors = [
                e for found in pool.map(
                    lambda p: _check_pair(*p, args['num_classes'], args[
                        'ignore_index'], bool(args.get('reduce_zero_label')),
                                          hints['bad_ids']), pairs)
                for e in found
            ]
        if errors:
            shown = '\n  '.join(errors[:5])
            more = f'\n  ... and {len(errors) - 5} more' if len(
                errors) > 5 else ''
            raise DatasetCheckError(
                f'{name}: {len(errors)} bad file(s) under {root or img_dir!r}'
                f':\n  {shown}{more}\nFix or remove these files (and their '
                f'image/label partner), or regenerate the dataset.')
    return len(pairs)


def _check_heads_classes(model: ConfigDict, dataset: ConfigDict,
                         name: str) -> None:
    """Every head of ``model`` predicts the classes of ``dataset``: a label
    beyond a head's classes is an IndexError on the CPU and a device-side
    assert on a GPU, at the first step; a head with more classes than the
    dataset is scored on them by no metric."""
    classes = _dataset_args(dataset)['num_classes']
    for key in ('decode_head', 'auxiliary_head', 'local_head'):
        heads = model.get(key) or []
        for i, head in enumerate(heads if isinstance(heads, list) else
                                 [heads]):
            given = head.get('num_classes')
            if given is not None and given != classes:
                where = f'model.{key}' + (f'[{i}]' if isinstance(
                    heads, list) else '')
                raise DatasetCheckError(
                    f'{where}.num_classes={given}, but {name} '
                    f'({dataset["type"]}) has {classes} classes. Set '
                    f'num_classes={classes} in every head (decode_head, '
                    f'auxiliary_head, local_head), or give the dataset the '
                    f'classes the model predicts (metainfo=dict('
                    f'classes=...)).')


def check_dataloader_cfgs(cfg: ConfigDict,
                          loaders: Tuple[str, ...],
                          check_content: bool = True) -> None:
    """Check the named dataloaders of a full config (those that are set):
    ``batch_size`` and ``num_workers``, that the model's heads predict the
    dataset's classes, and :func:`check_dataset_cfg` on each dataset.

    Raises:
        DatasetCheckError: Naming the setting or file and the fix.
    """
    for loader in loaders:
        loader_cfg = cfg.get(loader)
        if not loader_cfg:
            continue
        for key, least in (('batch_size', 1), ('num_workers', 0)):
            value = loader_cfg.get(key, least)
            if not isinstance(value, int) or value < least:
                raise DatasetCheckError(
                    f'{loader}.{key} must be an integer >= {least}, got '
                    f'{value!r}.')
        for where, dataset in leaf_dataset_cfgs(loader_cfg.dataset,
                                                f'{loader}.dataset'):
            _check_heads_classes(cfg.get('model') or {}, dataset, where)
        check_dataset_cfg(
            loader_cfg.dataset,
            name=f'{loader}.dataset',
            check_content=check_content)
