"""The shape of a training batch, and the one rule that ties an InfoPro
model's automatic split to it (``balance_shape``).

The automatic split balances the memory of the local modules for a per-GPU
batch ``(N, H, W)``: ``model.balance_shape``, else
``DEFAULT_BALANCE_BATCH`` images of ``model.data_preprocessor.size`` (the
size every image is padded to), else of the model's ``profile_size``. A tool
that chooses the batch or crop (``--memory-budget``, the benchmarks) sets
``balance_shape`` to what it trains (:func:`set_train_shape`).
"""
from typing import List, Mapping, Optional, Sequence, Tuple

from .config import names_argument
from .dataset_cfgs import iter_dataset_cfgs

__all__ = [
    'DEFAULT_BALANCE_BATCH', 'DEFAULT_PROFILE_SIZE', 'balance_shape_of',
    'train_crop_transforms', 'train_crop', 'set_train_shape'
]

#: Images per GPU the automatic split balances for when ``balance_shape`` is
#: None (mmseg's Cityscapes recipes train 2 per GPU).
DEFAULT_BALANCE_BATCH = 2
#: (H, W) of the random batch on which the segmentor measures the memory of
#: every block and head (activations scale with the pixels).
DEFAULT_PROFILE_SIZE = (64, 128)


def balance_shape_of(
        balance_shape: Optional[Sequence[int]],
        preprocessor_size: Optional[Sequence[int]],
        profile_size: Sequence[int] = DEFAULT_PROFILE_SIZE
) -> Tuple[int, int, int]:  # yapf: disable
    """The (N, H, W) an automatic split is balanced for (the module
    docstring's rule)."""
    if balance_shape is not None:
        return tuple(int(v) for v in balance_shape)
    crop = preprocessor_size or profile_size
    return (DEFAULT_BALANCE_BATCH, *(int(v) for v in crop))


def train_crop_transforms(cfg: Mapping) -> List[dict]:
    """The train pipelines' transforms that crop (``crop_size`` set), of
    every dataset in the train dataloader's (wrappers' pipelines too), as
    the config holds them (changing them changes the config)."""
    dataset = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    return [
        t for _, d in iter_dataset_cfgs(dataset)
        for t in d.get('pipeline') or []
        if isinstance(t, Mapping) and t.get('crop_size') is not None
    ]


def train_crop(cfg: Mapping) -> Optional[Tuple[int, int]]:
    """The (H, W) the train pipeline crops to (its last ``crop_size``),
    else ``model.data_preprocessor.size`` (which only pads to it)."""
    crops = train_crop_transforms(cfg)
    if crops:
        crop = crops[-1]['crop_size']
        return (crop, crop) if isinstance(crop, int) else tuple(crop)
    preprocessor = (cfg.get('model') or {}).get('data_preprocessor') or {}
    size = preprocessor.get('size')
    return tuple(size) if size is not None else None


def set_train_shape(cfg, batch: int, crop: Sequence[int]) -> None:
    """Train ``batch`` images of ``crop``: the train dataloader's batch
    size, every crop of the train pipelines, ``data_preprocessor.size``
    where one is set (and the config's own ``crop_size`` and
    ``train_pipeline`` variables, so that a dumped config reads true), and
    ``balance_shape`` of a segmentor that balances a split."""
    crop = tuple(int(v) for v in crop)
    cfg.train_dataloader.batch_size = int(batch)
    if tuple(train_crop(cfg) or ()) != crop:
        for transform in train_crop_transforms(cfg):
            transform['crop_size'] = crop
        for transform in cfg.get('train_pipeline') or []:
            if isinstance(transform, Mapping) and 'crop_size' in transform:
                transform['crop_size'] = crop
        if 'crop_size' in cfg:
            cfg.crop_size = crop
    preprocessor = cfg.model.get('data_preprocessor')
    if preprocessor is not None and preprocessor.get('size') is not None:
        preprocessor.size = crop
    if names_argument(cfg.model.get('type'), 'balance_shape'):
        cfg.model.balance_shape = (int(batch), *crop)
