from .activation_profile import saved_activation_bytes
from .balanced_split import balanced_split
from .placement import (cpu_copy, device_and_dtype, match_sync_bn,
                        sync_bn_implementation)
from .plain_mmseg import to_plain_model_cfg, to_plain_state_dict
from .weights_check import weights_not_loaded

__all__ = [
    'saved_activation_bytes', 'balanced_split', 'cpu_copy',
    'device_and_dtype', 'match_sync_bn', 'sync_bn_implementation',
    'to_plain_model_cfg', 'to_plain_state_dict', 'weights_not_loaded'
]
