"""Measurement of training memory and speed, the memory-budget search, and
accuracy studies (no registration)."""
from .budget_search import BudgetSearch, crop_ladder, format_size, parse_size
from .train_memory import (Case, build_case, build_case_config,
                           check_case_config, environment, measure_case,
                           parse_case, run_case)

__all__ = [
    'BudgetSearch', 'Case', 'build_case', 'build_case_config', 'check_case_config', 'crop_ladder',
    'environment', 'format_size', 'measure_case', 'parse_case', 'parse_size',
    'run_case'
]
