from .infopro_encoder_decoder import InfoProEncoderDecoder

__all__ = ['InfoProEncoderDecoder']
