# CamVid on a GPU, InfoPro K = 2: the E2E recipe next to this file with the
# paper's Cityscapes split of ResNet-101 (21,) (13 of layer3's 23 blocks in
# module 1) and lambda = (1.5, 1).
_base_ = [
    './deeplabv3_r101-d8_1xb8-10k_camvid-360x480.py',
    '../_base_/infopro/camvid.py'
]
model = dict(
    type='InfoProEncoderDecoder',
    backbone=dict(
        type='InfoProResNetV1c', num_local_modules=2, split_points=(21, )),
    local_head=_base_.infopro_local_head)
# Builds the local heads (measuring an automatic split, if one is set)
# before the optimizer collects the parameters; otherwise mmengine's default.
optim_wrapper = dict(constructor='InfoProOptimWrapperConstructor')
