from .infopro_encoder_decoder import InfoProEncoderDecoder
from .local_heads import LocalHeads

__all__ = ['InfoProEncoderDecoder', 'LocalHeads']
