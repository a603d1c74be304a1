"""Measured memory and speed of real training steps (the engine of
``tools/analysis/benchmark_memory.py``, ``profile_step.py`` and the trials
of ``fit.py`` and ``--memory-budget``): each case in a process of its own.
Imported by the tools only (not by the plugin import)."""
from .cases import (Case, build_case, build_case_config, check_case_config,
                    parse_case)
from .module_peaks import ModulePeaks
from .train_memory import (OUT_OF_MEMORY_MESSAGES, environment,
                           is_out_of_memory, measure_case, run_case)

__all__ = [
    'Case', 'build_case', 'build_case_config', 'check_case_config',
    'parse_case', 'ModulePeaks', 'OUT_OF_MEMORY_MESSAGES', 'environment',
    'is_out_of_memory', 'measure_case', 'run_case'
]
