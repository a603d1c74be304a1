from .infopro_mit import InfoProMixVisionTransformer
from .infopro_resnet import (InfoProResNeSt, InfoProResNetMixin,
                             InfoProResNetV1c, InfoProResNetV1d,
                             InfoProResNeXt)
from .infopro_timm_efficientnet import InfoProTIMMBackbone
from .local_modules import LocalModulesMixin, validate_split_points

__all__ = [
    'LocalModulesMixin', 'validate_split_points', 'InfoProResNetMixin',
    'InfoProResNetV1c', 'InfoProResNetV1d', 'InfoProResNeXt',
    'InfoProResNeSt', 'InfoProMixVisionTransformer', 'InfoProTIMMBackbone'
]
