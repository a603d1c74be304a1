from .backbones import InfoProResNetV1c
from .decode_heads import InfoProHead, ReconstructionDecoder
from .segmentors import InfoProEncoderDecoder

__all__ = [
    'InfoProResNetV1c', 'InfoProHead', 'ReconstructionDecoder',
    'InfoProEncoderDecoder'
]
