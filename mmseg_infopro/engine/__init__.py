"""What mmengine builds from mmseg's registries: hooks, the distributed
model wrapper and the optimizer constructor."""
from .hooks import (MemoryBudgetHook, SegTestVisualizationHook,
                    WeightsOnlyCheckpointHook)
from .model_wrappers import InfoProDistributedDataParallel
from .optimizers import InfoProOptimWrapperConstructor

__all__ = [
    'MemoryBudgetHook', 'SegTestVisualizationHook',
    'WeightsOnlyCheckpointHook', 'InfoProDistributedDataParallel',
    'InfoProOptimWrapperConstructor'
]
