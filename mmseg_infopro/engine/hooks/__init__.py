from .seg_test_visualization_hook import SegTestVisualizationHook
from .weights_only_checkpoint_hook import WeightsOnlyCheckpointHook

__all__ = ['SegTestVisualizationHook', 'WeightsOnlyCheckpointHook']
