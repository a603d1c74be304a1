from .hooks import WeightsOnlyCheckpointHook
from .runner_config import load_runner_config

__all__ = ['WeightsOnlyCheckpointHook', 'load_runner_config']
