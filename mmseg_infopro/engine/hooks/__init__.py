from .memory_budget_hook import MemoryBudgetHook
from .seg_test_visualization_hook import SegTestVisualizationHook
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook

__all__ = [
    'MemoryBudgetHook', 'SegTestVisualizationHook', 'WeightsOnlyCheckpointHook'
]
