"""``tools/train.py --memory-budget`` and ``tools/analysis/fit.py``: the
largest batch or crop whose training step fits a memory budget — the search
by trial steps, the split planner's first guess, the choice applied to a
config and agreed by every rank, and its record in the work dir. Imported by
the tools only (not by the plugin import, ``custom_imports``)."""
from .choice import (BudgetError, agree_on_choice, apply_choice, describe,
                     search_choice, training_device)
from .prediction import planner_prediction
from .record import read_choice, write_choice
from .search import (BudgetSearch, batch_pixels, check_margin, crop_ladder,
                     format_size, parse_size)

__all__ = [
    'BudgetError', 'agree_on_choice', 'apply_choice', 'describe',
    'search_choice', 'training_device', 'planner_prediction', 'read_choice',
    'write_choice', 'BudgetSearch', 'batch_pixels', 'check_margin',
    'crop_ladder', 'format_size', 'parse_size'
]
