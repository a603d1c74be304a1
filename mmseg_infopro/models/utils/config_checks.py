"""Keys a module does not take in a config, named with the closest valid
one when the config is built rather than as a ``TypeError`` when the module
is (local heads are built only once the split is known)."""
import difflib
import inspect
from typing import List, Optional

from mmseg.registry import MODELS

from ...utils import ConfigError

__all__ = ['check_config_keys', 'check_model_keys']


def _init_arguments(cls: type) -> Optional[List[str]]:
    """The keyword arguments ``cls(...)`` takes: its ``__init__``'s, and,
    where that passes ``**kwargs`` on, its bases' (as mmseg's subclasses
    do: ``ResNetV1c(**kwargs)`` -> ``ResNet``). None when the chain ends in
    ``**kwargs`` (anything may be taken)."""
    names: List[str] = []
    for klass in cls.__mro__:
        if klass is object or '__init__' not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters
        names += [
            n for n, p in params.items() if n != 'self' and p.kind not in (
                p.VAR_KEYWORD, p.VAR_POSITIONAL) and n not in names
        ]
        if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
            return names
    return None


def check_config_keys(cfg: dict, where: str) -> None:
    """Check that every key of ``cfg`` (with ``type``) is an argument of the
    module it builds.

    Args:
        cfg (dict): A module config, e.g. ``model.local_head``.
        where (str): Its place in the config, for the message.

    Raises:
        ConfigError: Naming the first unknown key, the closest valid one and
            the valid keys. Modules whose ``**kwargs`` reach no base that
            names its arguments pass.
    """
    kind = cfg.get('type')
    cls = MODELS.get(kind) if isinstance(kind, str) else kind
    if cls is None:
        raise ConfigError(f'{where}.type={kind!r} is not registered in '
                          f'mmseg.registry.MODELS (is its module imported?).')
    valid = _init_arguments(cls)
    if valid is None:
        return
    for key in cfg:
        # _scope_ (mmengine's registry), _delete_ (config inheritance)
        if key == 'type' or key.startswith('_') or key in valid:
            continue
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
        hint = f'Did you mean {close[0]!r}? ' if close else ''
        raise ConfigError(f'{where} has no setting {key!r} ({cls.__name__} '
                          f'takes {", ".join(valid)}). {hint}'.rstrip())


def check_model_keys(model: dict) -> None:
    """:func:`check_config_keys` on a segmentor config and its parts
    (``data_preprocessor``, ``backbone``, ``neck``, ``decode_head``,
    ``auxiliary_head``, ``local_head``; lists of heads too).

    Raises:
        ConfigError: For the first unknown key found.
    """
    check_config_keys(model, 'model')
    for key in ('data_preprocessor', 'backbone', 'neck', 'decode_head',
                'auxiliary_head', 'local_head'):
        part = model.get(key)
        parts = part if isinstance(part, (list, tuple)) else [part]
        for i, sub in enumerate(parts):
            if isinstance(sub, dict) and 'type' in sub:
                check_config_keys(
                    sub, f'model.{key}[{i}]'
                    if isinstance(part, (list, tuple)) else f'model.{key}')
