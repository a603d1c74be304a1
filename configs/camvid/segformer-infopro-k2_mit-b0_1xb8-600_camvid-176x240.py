# CamVid CPU proxy, SegFormer with InfoPro K = 2: MiT-B0 cut at the automatic
# split, the local head reading the tokens of the split's block as a feature
# map; lambda = (1.5, 1), task head of 64 channels. The earlier stages'
# outputs, which the all-MLP head reads, reach it detached.
_base_ = [
    './segformer_mit-b0_1xb8-600_camvid-176x240.py',
    '../_base_/infopro/camvid.py'
]
model = dict(
    _base_.infopro_proxy_model,
    backbone=dict(
        type='InfoProMixVisionTransformer',
        num_local_modules=2,
        split_points=None))
# Measures the automatic split (and builds the local heads) before the
# optimizer collects the parameters; otherwise the recipe's AdamW.
optim_wrapper = dict(
    constructor='InfoProOptimWrapperConstructor',
    # The recipe trains its randomly initialised head ('head') at 10x the
    # backbone's lr. The local heads are randomly initialised heads too, and
    # a local module should learn its objective as fast as the last module
    # learns the decode head's: 10x, on purpose (mmengine's substring match
    # of 'head' would give them the same by accident).
    paramwise_cfg=dict(custom_keys={'local_heads': dict(lr_mult=10.)}))
