"""The project's errors: a user's mistake, named with its fix.

The tools print each as one ``error:`` line (``--debug`` for the
traceback); any other exception is a bug and keeps its traceback.
"""

__all__ = ['ConfigError', 'CheckpointError', 'OutputError']


class ConfigError(ValueError):
    """A setting that cannot work, its message naming the key and the fix."""


class CheckpointError(ValueError):
    """A checkpoint that cannot be used; the message says why."""


class OutputError(ValueError):
    """An output path that would damage an input, replace a file without
    ``--overwrite``, or cannot be written; the message says what to do."""
