# CamVid CPU proxy, DeepLabV3+ with InfoPro K = 2 (automatic split,
# lambda = (1.5, 1), task head of 64 channels): layer1's output, which the
# decoder reads, reaches it detached from module 1.
_base_ = './deeplabv3plus_r18w32-d16_1xb8-600_camvid-176x240.py'
model = dict(
    type='InfoProEncoderDecoder',
    backbone=dict(
        type='InfoProResNetV1c', num_local_modules=2, split_points=None),
    balance_shape=(8, 176, 240),
    local_head=dict(
        type='InfoProHead',
        num_classes=11,
        loss_recon_weight=1.5,
        loss_task_weight=1.0,
        norm_cfg=dict(type='BN', requires_grad=True),
        task_head=dict(channels=64)))
# Measures the automatic split (and builds the local heads) before the
# optimizer collects the parameters; otherwise mmengine's default.
optim_wrapper = dict(constructor='InfoProOptimWrapperConstructor')
