"""Turn InfoPro configs and weights into plain mmseg ones (for deployment
and for the end-to-end reference)."""
import copy
from typing import Dict, Mapping

from torch import Tensor

__all__ = ['to_plain_model_cfg', 'to_plain_state_dict']


def _plain_type(name: str) -> str:
    """``InfoProX`` extends mmseg's ``X`` with the same weights."""
    return name[len('InfoPro'):] if name.startswith('InfoPro') else name


def to_plain_model_cfg(model_cfg: Mapping,
                       drop_auxiliary_head: bool = False) -> dict:
    """The mmseg model config with the same architecture and state dict.

    Every ``InfoProX`` class becomes mmseg's ``X`` (``InfoProEncoderDecoder``
    -> ``EncoderDecoder``, ``InfoProResNetV1c`` -> ``ResNetV1c``,
    ``InfoProMixVisionTransformer`` -> ``MixVisionTransformer``, ...); the
    InfoPro-only keys
    (``local_head``, ``profile_size``, ``balance_shape``,
    ``split_memory_tolerance``, ``num_local_modules``, ``split_points``) are
    removed, and so is ``with_cp`` of a timm backbone (mmseg's
    ``TIMMBackbone`` has none; checkpointing only matters in training).

    Args:
        model_cfg (Mapping): An InfoPro (or plain) model config.
        drop_auxiliary_head (bool): Remove ``auxiliary_head`` too (it is not
            used at inference). Defaults to False.

    Returns:
        dict: The plain model config (a deep copy).
    """
    cfg = copy.deepcopy(model_cfg)
    cfg['type'] = _plain_type(cfg['type'])
    backbone = cfg['backbone']
    backbone['type'] = _plain_type(backbone['type'])
    for key in ('num_local_modules', 'split_points'):
        backbone.pop(key, None)
    if backbone['type'] == 'TIMMBackbone':
        # InfoProTIMMBackbone's default; mmseg's (True) downloads weights.
        backbone.setdefault('pretrained', False)
        # mmseg's class hands unknown keys to timm, which has no such
        # argument; checkpointing only matters in training.
        backbone.pop('with_cp', None)
    for key in ('local_head', 'profile_size', 'balance_shape',
                'split_memory_tolerance'):
        cfg.pop(key, None)
    if drop_auxiliary_head:
        cfg.pop('auxiliary_head', None)
    return cfg


def to_plain_state_dict(
        state_dict: Mapping[str, Tensor],
        drop_auxiliary_head: bool = False) -> Dict[str, Tensor]:
    """Drop the local heads (and optionally the auxiliary head)."""
    drop = ('local_heads.', ) + (
        ('auxiliary_head.', ) if drop_auxiliary_head else ())
    return {k: v for k, v in state_dict.items() if not k.startswith(drop)}
