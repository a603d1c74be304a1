"""Measurement of training memory and speed, and accuracy studies (no
registration)."""
from .train_memory import (build_case_config, check_case_config, environment,
                           measure_case, parse_case, run_case)

__all__ = [
    'build_case_config', 'check_case_config', 'environment', 'measure_case',
    'parse_case', 'run_case'
]
