# SegFormer MiT-B2 on Cityscapes (batch 8 as 8 GPUs x 1, 1024x1024, 160k)
# with InfoPro, K = 2 local modules (automatic, memory-balanced split),
# lambda = (1.5, 1) as in the paper's DeepLab-V3 runs; everything else is
# mmseg's recipe:
#   segformer_mit-b2_8xb1-160k_cityscapes-1024x1024.py
# No InfoPro run of this model was published. K = 4:
#   --cfg-options model.backbone.num_local_modules=4
_base_ = [
    'mmseg::segformer/segformer_mit-b2_8xb1-160k_cityscapes-1024x1024.py',
    '../_base_/infopro/runtime.py',
    '../_base_/infopro/cityscapes.py'
]
model = dict(
    _base_.infopro_k2,
    backbone=dict(
        type='InfoProMixVisionTransformer',
        num_local_modules=2,
        split_points=None),
    balance_shape=(1, 1024, 1024))
optim_wrapper = dict(
    constructor='InfoProOptimWrapperConstructor',
    # The recipe trains its randomly initialised head ('head') at 10x the
    # backbone's lr. The local heads are randomly initialised heads too, and
    # a local module should learn its objective as fast as the last module
    # learns the decode head's: 10x, on purpose (mmengine's substring match
    # of 'head' would give them the same by accident).
    paramwise_cfg=dict(custom_keys={'local_heads': dict(lr_mult=10.)}))
