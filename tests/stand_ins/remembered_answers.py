"""mmengine's pure answers, computed once per input (a test-speed stand-in,
not a test).

mmengine formats the whole config with yapf each time it logs, dumps or
checkpoints it (about 1 s each, six times in a short training run), parses
all of mmseg's installed metafiles (0.5 s) to resolve each ``mmseg::``
config, and runs subprocesses (1.4 s) to collect the environment at every
Runner start. The same input gives the same answer (mmengine only reads the
metafiles), so remembering them changes no output, only the time.

Importing this module installs it: the pytest process does
(tests/conftest.py), and so do the processes the tests start, through
their configs::

    custom_imports = dict(imports=['mmseg_infopro', 'remembered_answers'])

with this folder on ``PYTHONPATH`` (tests/conftest.py puts it there for
every process the tests start).
"""
import functools

import mmengine.config.config as config_module
import mmengine.config.utils as config_utils
import mmengine.runner.runner as runner_module


def _remembered_format_code(format_code):
    texts = {}

    def format_code_once(text, style_config=None, **kwargs):
        key = (text, repr(style_config), repr(sorted(kwargs.items())))
        if key not in texts:
            texts[key] = format_code(
                text, style_config=style_config, **kwargs)
        return texts[key]

    format_code_once.remembered = True
    return format_code_once


def _remembered_collect_env(collect_env):
    environment = functools.lru_cache(maxsize=1)(collect_env)

    def collect_env_once():
        return dict(environment())

    collect_env_once.remembered = True
    return collect_env_once


def install() -> None:
    """Remember the three answers in this process (once; idempotent)."""
    if getattr(config_module.FormatCode, 'remembered', False):
        return
    config_module.FormatCode = _remembered_format_code(
        config_module.FormatCode)
    config_utils.load = functools.lru_cache(maxsize=None)(config_utils.load)
    config_utils.load.remembered = True
    runner_module.collect_env = _remembered_collect_env(
        runner_module.collect_env)


install()
