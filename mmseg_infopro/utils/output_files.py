"""Files a tool writes where the user says: never over an input, never half
written.

A tool that memory-maps its input (``torch.load`` does) and then writes the
same file truncates what it is still reading; a write that is interrupted
leaves a broken file where a good one was. Every output is checked against
the tool's inputs (links and other spellings of the same file included) and
written to a temporary file in the same folder, then moved over the target
in one ``os.replace``.
"""
import contextlib
import os
import os.path as osp
import tempfile
from typing import Iterable, Iterator, Optional, Sequence

from .errors import OutputError

__all__ = [
    'check_output_file', 'check_output_folder',
    'check_outputs_spare_inputs', 'check_outputs_new', 'replaced_atomically'
]


def _same_file(a: str, b: str) -> bool:
    try:
        return osp.samefile(a, b)
    except OSError:  # one of them does not exist
        return osp.realpath(a) == osp.realpath(b)


def check_output_file(path: str,
                      inputs: Sequence[Optional[str]] = (),
                      overwrite: bool = False,
                      flag: str = '--overwrite',
                      makes_folder: bool = False) -> None:
    """Check that ``path`` may be written.

    Args:
        path (str): The output file.
        inputs (Sequence[str | None]): The tool's input files (None: not
            given).
        overwrite (bool): Whether an existing ``path`` may be replaced.
        flag (str): The option that allows replacing, for the message.
        makes_folder (bool): The tool creates a missing folder (then only
            an existing one is checked).

    Raises:
        OutputError: If ``path`` is one of ``inputs``, exists (without
            ``overwrite``) or is a folder, or its folder is missing (unless
            ``makes_folder``) or not writable.
    """
    for given in filter(None, inputs):
        if _same_file(path, given):
            raise OutputError(
                f'{path} is the input {given}: writing it would destroy what '
                f'is being read. Write to another file.')
    if osp.isdir(path):
        raise OutputError(f'{path} is a folder; give a file name.')
    if osp.exists(path) and not overwrite:
        raise OutputError(f'{path} exists; pass {flag} to replace it.')
    folder = osp.dirname(osp.abspath(path))
    if not osp.isdir(folder):
        if makes_folder:
            return
        raise OutputError(f'the folder of {path} ({folder}) does not exist; '
                          f'create it first.')
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f'cannot write into {folder} (permission denied); '
                          f'give a path in a folder you can write.')


def check_output_folder(path: str, flag: str = '--out') -> None:
    """Check that files can be written into the folder ``path`` (created
    if missing).

    Raises:
        OutputError: If ``path`` is a file, or neither it nor the nearest
            existing folder above it is writable.
    """
    if osp.exists(path) and not osp.isdir(path):
        raise OutputError(f'{flag} {path} is a file; give a folder (it is '
                          f'created if missing).')
    existing = osp.abspath(path)
    while not osp.exists(existing):
        existing = osp.dirname(existing)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OutputError(f'{flag} {path}: cannot write into {existing} '
                          f'(permission denied); give a folder you can '
                          f'write.')


def check_outputs_spare_inputs(flag: str, outputs: Iterable[str],
                               inputs: Iterable[str], what: str) -> None:
    """Check that none of the files written for ``flag`` is an input.

    For tools that name their output files after their inputs (a folder
    of predictions named as the test images): pointed at the data, they
    would replace it.

    Args:
        flag (str): The option that names the outputs' folder.
        outputs (Iterable[str]): The files that will be written.
        inputs (Iterable[str]): The files that are read.
        what (str): What the inputs are, for the message.

    Raises:
        OutputError: Naming the first output that is an input (as written,
            or through links).
    """
    taken = {osp.realpath(path): path for path in inputs}
    for path in outputs:
        given = taken.get(osp.realpath(path))
        if given is not None:
            raise OutputError(
                f'{flag}: writing {path} would replace {given}, which is an '
                f'input of the {what}; give a folder outside the dataset.')


def check_outputs_new(flag: str, outputs: Sequence[str]) -> None:
    """Check that none of the files written for ``flag`` exists yet.

    Raises:
        OutputError: Counting those that do, naming one, and saying to pass
            ``--overwrite`` or give another folder.
    """
    existing = [path for path in outputs if osp.exists(path)]
    if existing:
        raise OutputError(
            f'{flag}: {len(existing)} of the {len(outputs)} files to write '
            f'exist already, e.g. {existing[0]} (an earlier run\'s?); pass '
            f'--overwrite to replace them, or give another folder.')


@contextlib.contextmanager
def replaced_atomically(path: str) -> Iterator[str]:
    """Yield a temporary path next to ``path``; when the block succeeds it
    replaces ``path`` in one step, when it fails it is removed and ``path``
    is left as it was."""
    folder = osp.dirname(osp.abspath(path))
    # The same extension: writers such as Config.dump choose the format
    # by it.
    fd, tmp = tempfile.mkstemp(
        prefix=f'.{osp.basename(path)}.part.',
        suffix=osp.splitext(path)[1],
        dir=folder)
    os.close(fd)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # as open() would create it, not 0600
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
