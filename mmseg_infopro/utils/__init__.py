"""The base layer: what every other part of the package and the tools
share, importing nothing else of the package — the project's errors, config
loading and ``--cfg-options``, the walk over nested dataset configs, the
batch shape and its ``balance_shape`` rule, checkpoint files and the split
they record, safe output files, memory readings and the work dir's files."""
from .checkpoint import (SPLIT_KEY, decode_split, encode_split,
                         load_checkpoint_file, misfit_weights, recorded_split)
from .config import (CfgOptionsAction, config_errors_as_one_line, load_config,
                     names_argument, parse_cfg_options)
from .dataset_cfgs import iter_dataset_cfgs, leaf_dataset_cfgs
from .errors import CheckpointError, ConfigError, OutputError
from .memory import MemoryTracker
from .output_files import (check_output_file, check_output_folder,
                           check_outputs_new, check_outputs_spare_inputs,
                           replaced_atomically)
from .train_shape import (DEFAULT_BALANCE_BATCH, DEFAULT_PROFILE_SIZE,
                          balance_shape_of, set_train_shape, train_crop,
                          train_crop_transforms)
from .work_dir_files import BUDGET_RECORD, earlier_checkpoints

__all__ = [
    'SPLIT_KEY', 'decode_split', 'encode_split', 'load_checkpoint_file',
    'misfit_weights', 'recorded_split', 'CfgOptionsAction',
    'config_errors_as_one_line', 'load_config', 'names_argument',
    'parse_cfg_options', 'iter_dataset_cfgs', 'leaf_dataset_cfgs',
    'CheckpointError', 'ConfigError', 'OutputError', 'MemoryTracker',
    'check_output_file', 'check_output_folder', 'check_outputs_new',
    'check_outputs_spare_inputs', 'replaced_atomically',
    'DEFAULT_BALANCE_BATCH', 'DEFAULT_PROFILE_SIZE', 'balance_shape_of',
    'set_train_shape', 'train_crop', 'train_crop_transforms', 'BUDGET_RECORD',
    'earlier_checkpoints'
]
