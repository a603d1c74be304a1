# E2E reference: mmseg's own DeepLab-V3 R-50-D8 on the InfoPro schedule.
_base_ = 'mmseg::deeplabv3/deeplabv3_r50-d8_4xb2-40k_cityscapes-512x1024.py'
custom_imports = dict(imports=['mmseg_infopro'], allow_failed_imports=False)
custom_hooks = [dict(type='WeightsOnlyCheckpointHook')]
train_dataloader = dict(batch_size=4)
