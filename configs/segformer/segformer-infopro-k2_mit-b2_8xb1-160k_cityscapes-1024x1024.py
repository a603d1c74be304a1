# SegFormer MiT-B2 on Cityscapes (batch 8 as 8 GPUs x 1, 1024x1024, 160k)
# with InfoPro, K = 2 local modules (automatic, memory-balanced split),
# lambda = (1.5, 1) as in the paper's DeepLab-V3 runs; everything else is
# mmseg's recipe:
#   segformer_mit-b2_8xb1-160k_cityscapes-1024x1024.py
# No InfoPro run of this model was published. K = 4:
#   --cfg-options model.backbone.num_local_modules=4
_base_ = 'mmseg::segformer/segformer_mit-b2_8xb1-160k_cityscapes-1024x1024.py'
custom_imports = dict(imports=['mmseg_infopro'], allow_failed_imports=False)
model = dict(
    type='InfoProEncoderDecoder',
    backbone=dict(
        type='InfoProMixVisionTransformer',
        num_local_modules=2,
        split_points=None),
    # The per-GPU batch (N, H, W) the automatic split balances memory for.
    balance_shape=(1, 1024, 1024),
    local_head=dict(
        type='InfoProHead',
        num_classes=19,
        loss_recon_weight=1.5,
        loss_task_weight=1.0,
        norm_cfg=dict(type='SyncBN', requires_grad=True)))
# Builds the local heads (measuring the split) before the optimizer
# collects the parameters; otherwise mmseg's optimizer settings.
optim_wrapper = dict(
    constructor='InfoProOptimWrapperConstructor',
    # The recipe trains its randomly initialised head ('head') at 10x the
    # backbone's lr. The local heads are randomly initialised heads too, and
    # a local module should learn its objective as fast as the last module
    # learns the decode head's: 10x, on purpose (mmengine's substring match
    # of 'head' would give them the same by accident).
    paramwise_cfg=dict(custom_keys={'local_heads': dict(lr_mult=10.)}))
custom_hooks = [dict(type='WeightsOnlyCheckpointHook')]
model_wrapper_cfg = dict(type='mmseg.InfoProDistributedDataParallel')
