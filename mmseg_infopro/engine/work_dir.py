"""Work dirs that hold an earlier run's checkpoints: never overwrite them
silently."""
import glob
import os
import os.path as osp
import time
from typing import List

__all__ = ['earlier_checkpoints', 'set_aside_checkpoints']


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
