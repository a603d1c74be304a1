"""What the tools (train, test, demo, converters, benchmarks) do before the
Runner starts: the config as mmseg's tools load it, the model's settings
checked on the meta device, the split a checkpoint recorded, work dirs that
keep an earlier run's checkpoints, and the distributed start-up. Not part of
the plugin import (``custom_imports``)."""
from .dist import setup_distributed
from .runner_config import (balance_shape_mismatch, build_model_shapes,
                            load_runner_config, missing_weight_file,
                            resume_mismatch, split_from_checkpoint)
from .work_dir import (lock_work_dir, prepare_work_dir, resume_checkpoint,
                       set_aside, set_aside_checkpoints)

__all__ = [
    'setup_distributed', 'balance_shape_mismatch', 'build_model_shapes',
    'load_runner_config', 'missing_weight_file', 'resume_mismatch',
    'split_from_checkpoint', 'lock_work_dir', 'prepare_work_dir',
    'resume_checkpoint', 'set_aside', 'set_aside_checkpoints'
]
