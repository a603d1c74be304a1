"""Config loading and checks shared by the tools (train, test, demo,
benchmarks, converter): one `error:` line for a user's mistake."""
import argparse
import contextlib
import copy
import os
import os.path as osp
import sys
from typing import Iterator, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config, DictAction
from mmengine.runner import find_latest_checkpoint
from mmseg.registry import MODELS

from ..models.segmentors.infopro_encoder_decoder import DEFAULT_BALANCE_BATCH
from ..models.utils import ConfigError, check_model_keys, weights_not_loaded
from .checkpoint_file import CheckpointError, load_checkpoint_file
from .output_files import check_output_folder

__all__ = [
    'CfgOptionsAction', 'config_errors_as_one_line', 'parse_cfg_options',
    'load_config',
    'load_runner_config', 'build_model_shapes',
    'missing_weight_file', 'balance_shape_mismatch', 'split_from_checkpoint',
    'resume_mismatch', 'train_crop', 'train_crop_transforms'
]

#: What a config file or a ``--cfg-options`` merge raises for the user's
#: mistakes (syntax, a missing ``_base_``, a dict over a number, ...).
_CONFIG_LOAD_ERRORS = (SyntaxError, OSError, TypeError, KeyError, NameError,
                       ValueError)
#: What mmseg's modules raise for settings they refuse while being built.
_MODEL_BUILD_ERRORS = (KeyError, TypeError, ValueError, AssertionError,
                       IndexError)


@contextlib.contextmanager
def config_errors_as_one_line(debug: bool = False) -> Iterator[None]:
    """Turn a :class:`ConfigError` raised in the block into one ``error:``
    line and exit code 1 (a setting's mistake, not a bug); with ``debug``
    (the tools' ``--debug``) it keeps its traceback."""
    try:
        yield
    except ConfigError as e:
        if debug:
            raise
        sys.exit(f'error: {e} (--debug shows the traceback)')


def parse_cfg_options(items: Sequence[str]) -> dict:
    """``--cfg-options`` items (``key=value``, mmengine's syntax) as the
    dict ``Config.merge_from_dict`` takes.

    Raises:
        ConfigError: For an item that is not ``KEY=VALUE``
            (``model.backbone.depth = 50`` with spaces).
    """
    for item in items:
        if '=' not in item or item.startswith('='):
            raise ConfigError(f'{item!r} is not KEY=VALUE (no spaces around '
                              f'"="; quote values with spaces).')
    if not items:
        return {}
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument('--o', nargs='+', action=DictAction)
    return parser.parse_args(['--o', *items]).o


class CfgOptionsAction(argparse.Action):
    """``--cfg-options`` as mmengine's ``DictAction`` parses it, stopping
    with one ``error:`` line (exit code 1) on an item that is not
    ``KEY=VALUE`` instead of a traceback."""

    def __call__(self,
                 parser: argparse.ArgumentParser,
                 namespace: argparse.Namespace,
                 values,
                 option_string: Optional[str] = None) -> None:
        try:
            options = parse_cfg_options(values or [])
        except ConfigError as e:
            parser.exit(1, f'error: {option_string}: {e}\n')
        earlier = getattr(namespace, self.dest, None) or {}
        setattr(namespace, self.dest, {**earlier, **options})


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """``Config.fromfile(path)`` with ``cfg_options`` merged.

    Raises:
        ConfigError: When the file (or a ``_base_``) does not load or the
            options do not merge, naming the exception (``--debug`` in the
            tools shows its traceback).
    """
    try:
        cfg = Config.fromfile(path)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
    except _CONFIG_LOAD_ERRORS as e:
        where = 'with --cfg-options ' if cfg_options else ''
        raise ConfigError(f'config {path} does not load {where}'
                          f'({type(e).__name__}: {e}).') from e
    return cfg


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

    ``model.balance_shape`` (default: 2 images of the crop) is the per-GPU
    batch for which ``InfoProEncoderDecoder`` balances memory when
    ``backbone.split_points`` is None; overriding the batch size or the crop
    alone leaves it behind. The crop is the train pipeline's
    (``RandomCrop.crop_size``), not ``data_preprocessor.size``, which only
    pads smaller images.

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
    shape = model.get('balance_shape')
    balanced = tuple(shape) if shape is not None else (DEFAULT_BALANCE_BATCH,
                                                       *crop)
    trained = (batch, *crop)
    if balanced == trained:
        return None
    return (f'The automatic split is balanced for a per-GPU batch of '
            f'{balanced} (model.balance_shape) but trains {trained} '
            f'(train_dataloader.batch_size and the train pipeline\'s crop). '
            f'Set model.balance_shape={trained} for the split with the '
            f'least memory at this batch.')


def train_crop_transforms(cfg: Config) -> List[dict]:
    """The train pipeline's transforms that crop (``crop_size`` set), as
    the config holds them (changing them changes the config)."""
    dataset = (cfg.get('train_dataloader') or {}).get('dataset') or {}
    while 'pipeline' not in dataset and isinstance(
            dataset.get('dataset'), dict):  # RepeatDataset and the like
        dataset = dataset['dataset']
    return [
        t for t in dataset.get('pipeline') or []
        if isinstance(t, dict) and t.get('crop_size') is not None
    ]


def train_crop(cfg: Config) -> Optional[tuple]:
    """The (H, W) the train pipeline crops to (its last ``crop_size``),
    else ``model.data_preprocessor.size`` (which only pads to it)."""
    crops = train_crop_transforms(cfg)
    if crops:
        crop = crops[-1]['crop_size']
        return (crop, crop) if isinstance(crop, int) else tuple(crop)
    preprocessor = (cfg.get('model') or {}).get('data_preprocessor') or {}
    size = preprocessor.get('size')
    return tuple(size) if size is not None else None


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
    recorded = state.get('local_heads._extra_state')
    if recorded is None or len(recorded) != backbone['num_local_modules'] - 1:
        return None
    split = tuple(int(p) for p in recorded.tolist())
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
    mine = {
        k: v
        for k, v in model.state_dict().items()
        if not k.endswith('_extra_state')
    }
    problems = weights_not_loaded(mine, saved, ('', ))
    problems += [
        f'{k}: in the checkpoint, not in the model' for k in saved
        if k not in mine and not k.endswith('_extra_state')
    ]
    if not problems:
        return None
    return (f'--resume: {checkpoint} does not fit the model this config '
            f'builds: {len(problems)} weights differ, e.g. {problems[0]}. A '
            f'resumed run keeps the settings it was trained with (K, '
            f'split_points, local_head, the heads\' widths): undo the '
            f'change, or train anew (--overwrite or another --work-dir).')
