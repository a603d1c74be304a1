# CamVid on a GPU, InfoPro K = 2: the E2E recipe next to this file with the
# paper's Cityscapes split of ResNet-101 (21,) (13 of layer3's 23 blocks in
# module 1) and lambda = (1.5, 1).
_base_ = './deeplabv3_r101-d8_1xb8-10k_camvid-360x480.py'
model = dict(
    type='InfoProEncoderDecoder',
    backbone=dict(
        type='InfoProResNetV1c', num_local_modules=2, split_points=(21, )),
    local_head=dict(
        type='InfoProHead',
        num_classes=11,
        loss_recon_weight=1.5,
        loss_task_weight=1.0,
        norm_cfg=dict(type='BN', requires_grad=True)))
# Builds the local heads (measuring an automatic split, if one is set)
# before the optimizer collects the parameters; otherwise mmengine's default.
optim_wrapper = dict(constructor='InfoProOptimWrapperConstructor')
