from .backbones import (InfoProMixVisionTransformer, InfoProResNeSt,
                        InfoProResNetV1c, InfoProResNetV1d, InfoProResNeXt,
                        InfoProTIMMBackbone)
from .decode_heads import InfoProHead, ReconstructionDecoder
from .segmentors import InfoProEncoderDecoder

__all__ = [
    'InfoProResNetV1c', 'InfoProResNetV1d', 'InfoProResNeXt',
    'InfoProResNeSt', 'InfoProMixVisionTransformer', 'InfoProTIMMBackbone',
    'InfoProHead',
    'ReconstructionDecoder', 'InfoProEncoderDecoder'
]
