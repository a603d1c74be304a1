"""Loading configs and ``--cfg-options`` as the tools do: a user's mistake
becomes one ``error:`` line."""
import argparse
import contextlib
import inspect
import sys
from typing import Iterator, Optional, Sequence

from mmengine.config import Config, DictAction
from mmseg.registry import MODELS

from .errors import ConfigError

__all__ = [
    'load_config', 'parse_cfg_options', 'CfgOptionsAction',
    'config_errors_as_one_line', 'names_argument'
]

#: What a config file or a ``--cfg-options`` merge raises for the user's
#: mistakes (syntax, a missing ``_base_``, a dict over a number, ...).
_CONFIG_LOAD_ERRORS = (SyntaxError, OSError, TypeError, KeyError, NameError,
                       ValueError)


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


def names_argument(kind, argument: str) -> bool:
    """Whether the module ``kind`` (a type registered in mmseg's ``MODELS``,
    or a class), or a class it derives from, names ``argument`` in its
    ``__init__``: a setting it surely takes (mmseg's ``TIMMBackbone`` hands
    unknown keys to timm, where ``with_cp`` does not exist)."""
    cls = MODELS.get(kind) if isinstance(kind, str) else kind
    return cls is not None and any(
        argument in inspect.signature(c.__init__).parameters
        for c in cls.__mro__ if '__init__' in vars(c))
