"""Work dirs that hold an earlier run's checkpoints: never overwrite them
silently."""
import fcntl
import glob
import os
import os.path as osp
import re
import time
from typing import IO, List, Optional, Sequence, Tuple

from ..utils import (BUDGET_RECORD, CheckpointError, earlier_checkpoints,
                     load_checkpoint_file)

__all__ = [
    'set_aside', 'set_aside_checkpoints', 'prepare_work_dir',
    'resume_checkpoint', 'lock_work_dir'
]


def set_aside(folder: str, paths: Sequence[str]) -> str:
    """Move ``paths`` (directly in ``folder``) into
    ``folder/replaced_<time>/``, so a new run neither overwrites them nor
    leaves its own outputs among older ones.

    Returns:
        str: The folder they were moved to.
    """
    target = osp.join(folder, time.strftime('replaced_%Y%m%d_%H%M%S'))
    os.makedirs(target, exist_ok=True)
    for path in paths:
        os.replace(path, osp.join(target, osp.basename(path)))
    return target


def set_aside_checkpoints(work_dir: str) -> str:
    """:func:`set_aside` for the earlier checkpoints of ``work_dir``, with
    the batch and crop their run chose for a memory budget."""
    record = osp.join(work_dir, BUDGET_RECORD)
    return set_aside(
        work_dir,
        earlier_checkpoints(work_dir) +
        ([record] if osp.isfile(record) else []))


def prepare_work_dir(work_dir: str,
                     resume: bool,
                     overwrite: bool,
                     load_from: Optional[str] = None,
                     main_process: bool = True) -> Optional[str]:
    """What ``tools/train.py`` does with the work dir before training.

    - ``resume`` with no checkpoint there (and no ``load_from``): nothing
      is resumed; returns a warning that says so.
    - Checkpoints there, neither ``resume`` nor ``overwrite``: refused.
    - Checkpoints there and ``overwrite``: the main process moves them
      aside (:func:`set_aside_checkpoints`); returns where.

    Returns:
        str | None: A message to log.

    Raises:
        ValueError: For a work dir whose checkpoints would be overwritten,
            naming the flags.
    """
    earlier = earlier_checkpoints(work_dir)
    if resume:
        if earlier or load_from:
            return None
        return (f'--resume: no checkpoint in {work_dir}; nothing is '
                f'resumed, training starts from scratch.')
    if not earlier:
        return None
    if not overwrite:
        names = ', '.join(osp.basename(p) for p in earlier[:4])
        raise ValueError(
            f'work_dir {work_dir} holds checkpoints of an earlier run '
            f'({names}). Continue that run with --resume, train into '
            f'another --work-dir, or pass --overwrite to move them to '
            f'{work_dir}/replaced_<time>/ and start anew.')
    if main_process:
        return f'--overwrite: moved the earlier checkpoints to ' \
            f'{set_aside_checkpoints(work_dir)}.'
    return None


def _newest_first(work_dir: str) -> List[str]:
    """``iter_*.pth`` and ``epoch_*.pth`` in ``work_dir``, newest first."""

    def number(path: str) -> int:
        found = re.search(r'(\d+)\.pth$', path)
        return int(found.group(1)) if found else -1

    found = glob.glob(osp.join(work_dir, 'iter_*.pth')) + glob.glob(
        osp.join(work_dir, 'epoch_*.pth'))
    return sorted(found, key=number, reverse=True)


def resume_checkpoint(work_dir: str) -> Tuple[Optional[str], str]:
    """The checkpoint ``--resume`` continues from, always inside
    ``work_dir``, and a message that says which one and why.

    mmengine's ``last_checkpoint`` holds the absolute path it wrote: a work
    dir that was moved names a file that is gone, a copied one the
    original's. Only the file name is taken from it, in ``work_dir``. A
    checkpoint that does not load (for example truncated by a kill while it
    was written) is passed over for the newest one that does.

    Returns:
        tuple[str | None, str]: The checkpoint (None: ``work_dir`` holds
        none) and the message to log.

    Raises:
        ValueError: If checkpoints are there but none loads.
    """
    candidates = _newest_first(work_dir)
    named, notes = None, []
    last = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(last):
        with open(last) as f:
            recorded = f.read().strip()
        named = osp.join(work_dir, osp.basename(recorded))
        if osp.abspath(recorded) != osp.abspath(named):
            notes.append(f'last_checkpoint names {recorded}, outside this '
                         f'work dir (moved or copied): its file name is '
                         f'taken in {work_dir}.')
        candidates = [named] + [c for c in candidates if c != named]
    broken = []
    for path in candidates:
        try:
            load_checkpoint_file(path)
        except CheckpointError as e:
            broken.append(f'{osp.basename(path)}: {e}')
            continue
        if broken:
            notes.append(f'passed over checkpoints that do not load ('
                         f'{"; ".join(broken)}).')
        return path, ' '.join([f'--resume: continuing from {path}.'] + notes)
    if broken:
        raise ValueError(
            f'--resume: no checkpoint in {work_dir} loads ('
            f'{"; ".join(broken)}). Start anew with --overwrite (they are '
            f'moved aside), or give another --work-dir.')
    return None, f'--resume: no checkpoint in {work_dir}.'


def lock_work_dir(work_dir: str) -> IO:
    """Hold ``work_dir`` for one training: an exclusive ``fcntl`` lock on
    ``work_dir/.train.lock``, which records the holder's PID.

    The guard against reusing a work dir looks only at the start; two runs
    started into one folder would both train and the second one's
    checkpoints replace the first's. The lock lasts as long as the returned
    file stays open, and the system releases it when the process ends,
    however it ends.

    Returns:
        IO: The open lock file (keep it for the whole run).

    Raises:
        ValueError: If another process holds the work dir, naming its PID.
    """
    os.makedirs(work_dir, exist_ok=True)
    lock = open(osp.join(work_dir, '.train.lock'), 'a+')
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        lock.seek(0)
        holder = lock.read().strip() or 'unknown'
        lock.close()
        raise ValueError(
            f'work_dir {work_dir} is in use by another training (PID '
            f'{holder}). Wait for it to end (or stop it), or train into '
            f'another --work-dir.')
    lock.seek(0)
    lock.truncate()
    lock.write(f'{os.getpid()}\n')
    lock.flush()
    return lock
