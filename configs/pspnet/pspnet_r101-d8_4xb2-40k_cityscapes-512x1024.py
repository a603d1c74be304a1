# E2E reference: PSPNet R-101-D8 on Cityscapes
# (batch 8 as 4 GPUs x 2, 512x1024, 40k),
# mmseg's own recipe (pspnet_r101-d8_4xb2-40k_cityscapes-512x1024.py),
# with checkpoints that load under torch's weights_only=True.
_base_ = 'mmseg::pspnet/pspnet_r101-d8_4xb2-40k_cityscapes-512x1024.py'
# Only for WeightsOnlyCheckpointHook: the model is plain mmseg.
custom_imports = dict(imports=['mmseg_infopro'], allow_failed_imports=False)
custom_hooks = [dict(type='WeightsOnlyCheckpointHook')]
