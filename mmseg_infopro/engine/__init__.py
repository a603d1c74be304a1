from .budget_choice import (BUDGET_RECORD, BudgetError, agree_on_choice,
                            apply_choice, describe, read_choice, search_choice,
                            training_device, write_choice)
from .checkpoint_file import CheckpointError, load_checkpoint_file
from .dist import setup_distributed
from .hooks import (MemoryBudgetHook, SegTestVisualizationHook,
                    WeightsOnlyCheckpointHook)
from .model_wrappers import InfoProDistributedDataParallel
from .optimizers import InfoProOptimWrapperConstructor
from .output_files import (OutputError, check_output_file, check_output_folder,
                           check_outputs_new, check_outputs_spare_inputs,
                           replaced_atomically)
from .runner_config import (CfgOptionsAction, balance_shape_mismatch,
                            build_model_shapes, config_errors_as_one_line,
                            load_config, load_runner_config,
                            missing_weight_file, parse_cfg_options,
                            resume_mismatch, split_from_checkpoint, train_crop)
from .work_dir import (lock_work_dir, prepare_work_dir, resume_checkpoint,
                       set_aside)

__all__ = [
    'BUDGET_RECORD', 'BudgetError', 'agree_on_choice', 'apply_choice',
    'describe', 'read_choice', 'search_choice', 'training_device',
    'write_choice', 'MemoryBudgetHook', 'train_crop',
    'CheckpointError', 'load_checkpoint_file',
    'setup_distributed', 'InfoProDistributedDataParallel',
    'InfoProOptimWrapperConstructor', 'WeightsOnlyCheckpointHook',
    'SegTestVisualizationHook',
    'CfgOptionsAction', 'config_errors_as_one_line', 'parse_cfg_options',
    'load_config',
    'load_runner_config', 'balance_shape_mismatch',
    'split_from_checkpoint',
    'resume_mismatch', 'build_model_shapes', 'missing_weight_file',
    'prepare_work_dir', 'resume_checkpoint', 'lock_work_dir', 'set_aside',
    'OutputError',
    'check_output_file', 'check_output_folder', 'check_outputs_spare_inputs',
    'check_outputs_new',
    'replaced_atomically'
]
