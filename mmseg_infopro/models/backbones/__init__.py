from .infopro_resnet import InfoProResNetV1c, validate_split_points

__all__ = ['InfoProResNetV1c', 'validate_split_points']
