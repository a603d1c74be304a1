"""Mistakes in a config: their error class, and keys a module does not
take, named with the closest valid one when the config is built rather than
as a ``TypeError`` when the module is (local heads are built only once the
split is known)."""
import difflib
import inspect

from mmseg.registry import MODELS

__all__ = ['ConfigError', 'check_config_keys']


class ConfigError(ValueError):
    """A setting that cannot work, its message naming the key and the fix.

    The tools print it as one ``error:`` line (``--debug`` for the
    traceback); other exceptions are bugs and keep their traceback.
    """


def check_config_keys(cfg: dict, where: str) -> None:
    """Check that every key of ``cfg`` (with ``type``) is an argument of the
    module it builds.

    Args:
        cfg (dict): A module config, e.g. ``model.local_head``.
        where (str): Its place in the config, for the message.

    Raises:
        ConfigError: Naming the first unknown key, the closest valid one and
            the valid keys. Modules that take ``**kwargs`` pass.
    """
    kind = cfg.get('type')
    cls = MODELS.get(kind) if isinstance(kind, str) else kind
    if cls is None:
        raise ConfigError(f'{where}.type={kind!r} is not registered in '
                          f'mmseg.registry.MODELS (is its module imported?).')
    params = inspect.signature(cls.__init__).parameters
    if any(p.kind == p.VAR_KEYWORD for p in params.values()):
        return
    valid = [name for name in params if name != 'self']
    for key in cfg:
        if key == 'type' or key in valid:
            continue
        close = difflib.get_close_matches(key, valid, n=1, cutoff=0.5)
        hint = f'Did you mean {close[0]!r}? ' if close else ''
        raise ConfigError(f'{where} has no setting {key!r} ({cls.__name__} '
                          f'takes {", ".join(valid)}). {hint}'.rstrip())
