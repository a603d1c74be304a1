from .activation_profile import (AllocationTracker, peak_allocated_bytes,
                                 saved_storages, storage_key)
from .balanced_split import balanced_split, split_by_cost
from .bn_statistics import BNAgreement, bn_statistics_agreement
from .config_checks import (ConfigError, check_config_keys, check_model_keys,
                            names_argument)
from .placement import (cpu_copy, device_and_dtype, match_sync_bn,
                        sync_bn_implementation)
from .plain_mmseg import to_plain_model_cfg, to_plain_state_dict
from .split_planner import ModuleMemory, SplitPlan, SplitPlanner
from .weights_check import weights_not_loaded

__all__ = [
    'AllocationTracker', 'peak_allocated_bytes', 'saved_storages',
    'storage_key', 'balanced_split', 'split_by_cost', 'BNAgreement',
    'bn_statistics_agreement', 'ConfigError',
    'check_config_keys', 'check_model_keys', 'names_argument',
    'ModuleMemory',
    'SplitPlan', 'SplitPlanner', 'cpu_copy', 'device_and_dtype',
    'match_sync_bn', 'sync_bn_implementation', 'to_plain_model_cfg',
    'to_plain_state_dict', 'weights_not_loaded'
]
