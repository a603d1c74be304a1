"""What mmengine builds from mmseg's registries: hooks, the distributed
model wrapper, the optimizer constructor and the Runner."""
from .hooks import (MemoryBudgetHook, SegTestVisualizationHook,
                    WeightsOnlyCheckpointHook)
from .model_wrappers import InfoProDistributedDataParallel
from .optimizers import InfoProOptimWrapperConstructor
from .runner import InfoProRunner

__all__ = [
    'MemoryBudgetHook', 'SegTestVisualizationHook',
    'WeightsOnlyCheckpointHook', 'InfoProDistributedDataParallel',
    'InfoProOptimWrapperConstructor', 'InfoProRunner'
]
