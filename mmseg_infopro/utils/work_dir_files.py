"""What a training run keeps in its work dir besides logs: its checkpoints
and the batch and crop it chose for a memory budget."""
import glob
import os.path as osp
from typing import List

__all__ = ['BUDGET_RECORD', 'earlier_checkpoints']

#: The batch and crop a run chose for ``--memory-budget`` (with the peak
#: training then measured), kept with its checkpoints; ``--resume`` takes it.
BUDGET_RECORD = 'memory_budget.json'


def earlier_checkpoints(work_dir: str) -> List[str]:
    """The checkpoints (``*.pth``, ``last_checkpoint``) directly in
    ``work_dir``, sorted by name."""
    found = glob.glob(osp.join(work_dir, '*.pth'))
    if osp.isfile(osp.join(work_dir, 'last_checkpoint')):
        found.append(osp.join(work_dir, 'last_checkpoint'))
    return sorted(found)
