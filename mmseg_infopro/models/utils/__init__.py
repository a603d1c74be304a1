from .activation_profile import saved_activation_bytes
from .balanced_split import balanced_split

__all__ = ['saved_activation_bytes', 'balanced_split']
