from .dist import setup_distributed
from .hooks import WeightsOnlyCheckpointHook
from .model_wrappers import InfoProDistributedDataParallel
from .runner_config import balance_shape_mismatch, load_runner_config

__all__ = [
    'setup_distributed', 'InfoProDistributedDataParallel',
    'WeightsOnlyCheckpointHook', 'load_runner_config', 'balance_shape_mismatch'
]
