"""What the InfoPro models use inside: memory measurement of a piece of
network, the split planner and its exact search, the local heads' placement
and the plain-mmseg export."""
from .activation_profile import (AllocationTracker, peak_allocated_bytes,
                                 saved_storages, storage_key)
from .config_checks import check_config_keys, check_model_keys
from .placement import (convert_sync_batchnorm, cpu_copy, device_and_dtype,
                        match_sync_bn, revert_sync_batchnorm,
                        sync_bn_implementation)
from .plain_mmseg import to_plain_model_cfg, to_plain_state_dict
from .split_cost import split_by_cost
from .split_planner import ModuleMemory, SplitPlan, SplitPlanner

__all__ = [
    'AllocationTracker', 'peak_allocated_bytes', 'saved_storages',
    'storage_key', 'check_config_keys', 'check_model_keys',
    'convert_sync_batchnorm', 'revert_sync_batchnorm', 'cpu_copy',
    'device_and_dtype', 'match_sync_bn', 'sync_bn_implementation',
    'to_plain_model_cfg', 'to_plain_state_dict', 'split_by_cost',
    'ModuleMemory', 'SplitPlan', 'SplitPlanner'
]
