# E2E reference: mmseg's own DeepLab-V3 R-101-D8 on the InfoPro schedule
# (batch 8 as 2 GPUs x 4, 512x1024, lr 0.01, 40k iterations).
_base_ = 'mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-40k_cityscapes-512x1024.py'
# Only for WeightsOnlyCheckpointHook: the model is plain mmseg.
custom_imports = dict(imports=['mmseg_infopro'], allow_failed_imports=False)
custom_hooks = [dict(type='WeightsOnlyCheckpointHook')]
train_dataloader = dict(batch_size=4)
