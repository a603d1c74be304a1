from .infopro_head import InfoProHead
from .reconstruction_decoder import ReconstructionDecoder

__all__ = ['InfoProHead', 'ReconstructionDecoder']
