from .infopro_encoder_decoder import InfoProEncoderDecoder
from .local_heads import LocalHeads
from .split_state import SplitStateMixin

__all__ = ['InfoProEncoderDecoder', 'LocalHeads', 'SplitStateMixin']
