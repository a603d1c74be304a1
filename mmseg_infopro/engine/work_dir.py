"""Work dirs that hold an earlier run's checkpoints: never overwrite them
silently."""
import glob
import os
import os.path as osp
import time
from typing import List, Optional

__all__ = ['earlier_checkpoints', 'set_aside_checkpoints', 'prepare_work_dir']


def earlier_checkpoints(work_dir: str) -> List[str]:
    """The checkpoints (``*.pth``, ``last_checkpoint``) directly in
    ``work_dir``, sorted by name."""
    found = glob.glob(osp.join(work_dir, '*.pth'))
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        found.append(osp.join(work_dir, 'last_checkpoint'))
    return sorted(found)


def set_aside_checkpoints(work_dir: str) -> str:
    """Move the earlier checkpoints into ``work_dir/replaced_<time>/``, so a
    new run neither overwrites them nor leaves its own among older, later
    ones.

    Returns:
        str: The folder they were moved to.
    """
    target = osp.join(work_dir, time.strftime('replaced_%Y%m%d_%H%M%S'))
    os.makedirs(target, exist_ok=True)
    for path in earlier_checkpoints(work_dir):
        os.replace(path, osp.join(target, osp.basename(path)))
    return target


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
