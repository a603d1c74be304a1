"""The batch and crop a ``--memory-budget`` run chose, recorded in its work
dir (with the peak that training then measured, which
:class:`~mmseg_infopro.engine.MemoryBudgetHook` adds) and taken from there
again by ``--resume``."""
import json
import os
import os.path as osp
from typing import Dict, Optional

from ..utils import BUDGET_RECORD, replaced_atomically

__all__ = ['read_choice', 'write_choice']


def read_choice(work_dir: str) -> Optional[Dict]:
    """The choice recorded in ``work_dir``, or None."""
    path = osp.join(work_dir, BUDGET_RECORD)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def write_choice(work_dir: str, choice: Optional[Dict]) -> None:
    """Record ``choice`` in ``work_dir`` (None: remove an earlier run's
    record, which a fresh run without a budget must not resume with)."""
    path = osp.join(work_dir, BUDGET_RECORD)
    if choice is None:
        try:
            os.remove(path)
        except FileNotFoundError:
            pass
        return
    os.makedirs(work_dir, exist_ok=True)
    with replaced_atomically(path) as tmp, open(tmp, 'w') as f:
        json.dump(choice, f, indent=2)
