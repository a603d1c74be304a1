"""mmengine's Runner, with a SyncBN conversion that keeps the activation of
norm + activation layers."""
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner
from mmseg.registry import RUNNERS

from ..models.utils import convert_sync_batchnorm

__all__ = ['InfoProRunner']


@RUNNERS.register_module()
class InfoProRunner(Runner):
    """mmengine's :class:`Runner`, but for ``cfg.sync_bn``.

    With several processes, ``sync_bn='torch'`` (or ``'mmcv'``) turns the
    model's BN layers into SyncBN before wrapping it. mmengine's converter
    rebuilds every BN subclass as a plain ``SyncBatchNorm``: timm's
    ``BatchNormAct2d`` (the norm of every EfficientNet block) would lose its
    activation without a word. This Runner converts with
    :func:`~mmseg_infopro.models.utils.convert_sync_batchnorm`, which makes
    those timm's ``SyncBatchNormAct`` (activation kept) and the others what
    mmengine makes. ``tools/train.py`` and ``tools/test.py`` use it unless a
    config names its own ``runner_type``; with mmseg's tools, set
    ``runner_type = 'InfoProRunner'``.
    """

    def wrap_model(self, model_wrapper_cfg, model):
        sync_bn = self.cfg.get('sync_bn')
        if not (self.distributed and sync_bn) or is_model_wrapper(model):
            return super().wrap_model(model_wrapper_cfg, model)
        model = convert_sync_batchnorm(model, sync_bn)
        # mmengine's own conversion would undo the one above.
        self.cfg.pop('sync_bn')
        try:
            return super().wrap_model(model_wrapper_cfg, model)
        finally:
            self.cfg.sync_bn = sync_bn
