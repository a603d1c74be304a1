# DeepLabV3+ R-101-D8 on Cityscapes (batch 8 as 4 GPUs x 2, 512x1024, 40k)
# with InfoPro, K = 2 local modules (automatic, memory-balanced split),
# lambda = (1.5, 1) as in the paper's DeepLab-V3 runs; everything else is
# mmseg's recipe:
#   deeplabv3plus_r101-d8_4xb2-40k_cityscapes-512x1024.py
# No InfoPro run of this model was published. K = 4:
#   --cfg-options model.backbone.num_local_modules=4
_base_ = 'mmseg::deeplabv3plus/deeplabv3plus_r101-d8_4xb2-40k_cityscapes-512x1024.py'  # noqa: E501
custom_imports = dict(imports=['mmseg_infopro'], allow_failed_imports=False)
model = dict(
    type='InfoProEncoderDecoder',
    backbone=dict(
        type='InfoProResNetV1c',
        num_local_modules=2,
        split_points=None),
    # The per-GPU batch (N, H, W) the automatic split balances memory for.
    balance_shape=(2, 512, 1024),
    local_head=dict(
        type='InfoProHead',
        num_classes=19,
        loss_recon_weight=1.5,
        loss_task_weight=1.0,
        norm_cfg=dict(type='SyncBN', requires_grad=True)))
# Builds the local heads (measuring the split) before the optimizer
# collects the parameters; otherwise mmseg's optimizer settings.
optim_wrapper = dict(constructor='InfoProOptimWrapperConstructor')
custom_hooks = [dict(type='WeightsOnlyCheckpointHook')]
model_wrapper_cfg = dict(type='mmseg.InfoProDistributedDataParallel')
