"""The tools' config before the Runner starts: loaded as mmseg's tools
load it, the model's settings checked on the meta device, the weights it
starts from, the split a checkpoint recorded, and whether a checkpoint can
be resumed with it."""
import copy
import os
import os.path as osp
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.runner import find_latest_checkpoint
from mmseg.registry import MODELS

from ..models.utils import check_model_keys
from ..utils import (CheckpointError, ConfigError, balance_shape_of,
                     check_output_folder, load_checkpoint_file, load_config,
                     misfit_weights, recorded_split, train_crop)

__all__ = [
    'load_runner_config', 'build_model_shapes', 'missing_weight_file',
    'balance_shape_mismatch', 'split_from_checkpoint', 'resume_mismatch'
]

#: What mmseg's modules raise for settings they refuse while being built.
_MODEL_BUILD_ERRORS = (KeyError, TypeError, ValueError, AssertionError,
                       IndexError)


def load_runner_config(path: str,
                       cfg_options: Optional[dict] = None,
                       work_dir: Optional[str] = None,
                       launcher: str = 'none') -> Config:
    """Load a config as mmseg's tools do.

    Args:
        path (str): Config file.
        cfg_options (dict, optional): ``--cfg-options`` overrides.
        work_dir (str, optional): ``--work-dir``; else the config's
            ``work_dir``; else ``./work_dirs/<config name>``.
        launcher (str): ``--launcher``. Defaults to 'none'.

    Returns:
        Config: The config, ready for ``Runner.from_cfg``; a dataloader with
        ``num_workers=0`` gets ``persistent_workers=False`` (which torch
        requires).

    Raises:
        ValueError: For ``--launcher pytorch`` outside torchrun.
        ConfigError: When the file or ``cfg_options`` do not load, naming
            the exception (``--debug`` in the tools shows its traceback).
        OutputError: When the work dir is a file or cannot be written.
    """
    if launcher == 'pytorch' and 'RANK' not in os.environ:
        raise ValueError(
            '--launcher pytorch needs the environment torchrun sets: start '
            'with `bash tools/dist_train.sh CONFIG GPUS` (or dist_test.sh), '
            'or `torchrun --nproc_per_node=GPUS tools/train.py CONFIG '
            '--launcher pytorch`; for one process use --launcher none.')
    cfg = load_config(path, cfg_options)
    cfg.launcher = launcher
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        loader_cfg = cfg.get(loader)
        if loader_cfg and loader_cfg.get('num_workers') == 0 and \
                loader_cfg.get('persistent_workers'):
            # torch refuses persistent workers without workers.
            loader_cfg.persistent_workers = False
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(path))[0])
    check_output_folder(cfg.work_dir,
                        '--work-dir' if work_dir is not None else 'work_dir')
    return cfg


def build_model_shapes(cfg: Config) -> nn.Module:
    """Build ``cfg.model`` with its weights on the meta device (shapes
    only), to check the model settings before a Runner starts.

    Raises:
        ConfigError: When an mmseg module refuses its settings (an unknown
            type, ``depth=7``, an argument it does not take, ...), with
            mmseg's message.
    """
    try:
        try:
            with torch.device('meta'):
                return MODELS.build(copy.deepcopy(cfg.model))
        except RuntimeError:  # a module that computes with its tensors (MiT)
            return MODELS.build(copy.deepcopy(cfg.model))
    except ConfigError:
        raise
    except _MODEL_BUILD_ERRORS as e:
        if isinstance(e, TypeError):  # perhaps a key a module does not take
            check_model_keys(cfg.model)
        raise ConfigError(f'model: cannot be built from the config '
                          f'({type(e).__name__}: {e}).') from e


def missing_weight_file(cfg: Config) -> Optional[str]:
    """Why the pretrained weights the model starts from cannot load, or None.

    ``model.pretrained``, ``model.backbone.pretrained`` and a backbone
    ``init_cfg=dict(type='Pretrained', checkpoint=...)`` name a file that
    mmengine opens only in ``init_weights``, after the Runner is built (a
    traceback at start). Addresses with ``://`` are mmengine's to fetch.
    """
    model = cfg.get('model') or {}
    backbone = model.get('backbone') or {}
    init_cfg = backbone.get('init_cfg') or {}
    named = [('model.pretrained', model.get('pretrained')),
             ('model.backbone.pretrained', backbone.get('pretrained'))]
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        named.append(('model.backbone.init_cfg.checkpoint',
                      init_cfg.get('checkpoint')))
    for key, path in named:
        if isinstance(path, str) and '://' not in path and \
                not osp.isfile(path):
            return (f'{key}: {path} does not exist. Give the path of the '
                    f'weights file, an address mmengine fetches '
                    f'(open-mmlab://..., https://...), or None.')
    return None


def balance_shape_mismatch(cfg: Config) -> Optional[str]:
    """A warning when an automatic split is balanced for another batch.

    The automatic split (``backbone.split_points`` None) balances memory for
    the batch of :func:`~mmseg_infopro.utils.balance_shape_of`:
    ``model.balance_shape``, else 2 images of ``data_preprocessor.size``;
    overriding the batch size or the crop alone leaves it behind. What
    trains is the dataloader's batch of the train pipeline's crop
    (``RandomCrop.crop_size``).

    Args:
        cfg (Config): A training config.

    Returns:
        str | None: The warning, naming both shapes and the fix, or None.
    """
    model = cfg.get('model') or {}
    backbone = model.get('backbone') or {}
    crop = train_crop(cfg)
    batch = (cfg.get('train_dataloader') or {}).get('batch_size')
    if ('num_local_modules' not in backbone
            or backbone.get('split_points') is not None
            or backbone['num_local_modules'] < 2 or crop is None
            or batch is None):
        return None
    preprocessor = model.get('data_preprocessor') or {}
    balanced = balance_shape_of(
        model.get('balance_shape'), preprocessor.get('size'),
        *([model['profile_size']] if 'profile_size' in model else []))
    trained = (batch, *crop)
    if balanced == trained:
        return None
    return (f'The automatic split is balanced for a per-GPU batch of '
            f'{balanced} (model.balance_shape) but trains {trained} '
            f'(train_dataloader.batch_size and the train pipeline\'s crop). '
            f'Set model.balance_shape={trained} for the split with the '
            f'least memory at this batch.')


def split_from_checkpoint(cfg: Config,
                          checkpoint: Optional[str] = None
                          ) -> Optional[Tuple[str, tuple]]:  # yapf: disable
    """Take the split recorded in a checkpoint, for an automatic split,
    before the Runner builds the model.

    For training, the checkpoint is the one training resumes from or loads
    (``--resume``, ``load_from``); for testing, the one evaluated. An
    automatic split would otherwise be measured again at every training
    start, and the local heads of the checkpoint were trained on its own
    split, so that one wins; testing measures nothing either way, but with
    the split known from the start every rank builds the same model in the
    same order. An explicit ``split_points`` is left as configured (a
    checkpoint of another split is then refused when it loads, with the
    split to set).

    Args:
        cfg (Config): A training or testing config (``resume``,
            ``load_from``, ``work_dir`` set); ``model.backbone.split_points``
            is changed in place.
        checkpoint (str, optional): The checkpoint to take it from. Defaults
            to the training checkpoint named by the config.

    Returns:
        tuple[str, tuple] | None: The checkpoint and the split taken from
        it, or None.
    """
    backbone = (cfg.get('model') or {}).get('backbone') or {}
    if backbone.get('num_local_modules', 1) < 2 or \
            backbone.get('split_points') is not None:
        return None
    path = checkpoint
    if path is None:
        path = cfg.get('load_from')
        if cfg.get('resume') and path is None:
            path = find_latest_checkpoint(cfg.work_dir)
    if not path or not osp.isfile(path):
        return None
    try:
        state = load_checkpoint_file(path).get('state_dict', {})
    except CheckpointError:  # reported where the checkpoint is loaded
        return None
    split = recorded_split(state)
    if split is None or len(split) != backbone['num_local_modules'] - 1:
        return None
    backbone['split_points'] = split
    return path, split


def resume_mismatch(cfg: Config, checkpoint: str) -> Optional[str]:
    """Why ``checkpoint`` cannot be resumed with the model of ``cfg``, or
    None.

    mmengine resumes whatever the config builds: a checkpoint of K = 2 into
    a K = 1 model, or local heads of another width, end in an optimizer
    "parameter group" error or a shape error at the first step. The model
    is built on the meta device (shapes only) after the split was taken
    from the checkpoint (:func:`split_from_checkpoint`).

    Returns:
        str | None: The weights that differ and the settings to restore.
    """
    model = build_model_shapes(cfg)
    try:
        saved = load_checkpoint_file(checkpoint).get('state_dict', {})
    except CheckpointError:
        return None  # reported where it is loaded
    problems = misfit_weights(model.state_dict(), saved, unexpected=True)
    if not problems:
        return None
    return (f'--resume: {checkpoint} does not fit the model this config '
            f'builds: {len(problems)} weights differ, e.g. {problems[0]}. A '
            f'resumed run keeps the settings it was trained with (K, '
            f'split_points, local_head, the heads\' widths): undo the '
            f'change, or train anew (--overwrite or another --work-dir).')
