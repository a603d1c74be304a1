# E2E reference: SegFormer MiT-B2 on Cityscapes
# (batch 8 as 8 GPUs x 1, 1024x1024, 160k),
# mmseg's own recipe (segformer_mit-b2_8xb1-160k_cityscapes-1024x1024.py),
# with checkpoints that load under torch's weights_only=True.
_base_ = 'mmseg::segformer/segformer_mit-b2_8xb1-160k_cityscapes-1024x1024.py'
# Only for WeightsOnlyCheckpointHook: the model is plain mmseg.
custom_imports = dict(imports=['mmseg_infopro'], allow_failed_imports=False)
custom_hooks = [dict(type='WeightsOnlyCheckpointHook')]
