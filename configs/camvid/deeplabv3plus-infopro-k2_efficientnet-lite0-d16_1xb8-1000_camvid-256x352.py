# CamVid in the pretrained regime, InfoPro K = 2: the E2E recipe next to this
# file (DeepLabV3+ on frames upsampled 1.5x) with Lite0 cut into 2 local
# modules at the automatic (memory-balanced) split, (8,) here, module 1
# trained by an InfoPro local head with the paper's Cityscapes lambda1 = 1.5
# (reconstruction), lambda2 = 1 (task). The local task head has
# the decode head's 128 channels and, like it, 10x the backbone's lr (new heads
# on a pretrained backbone; decided with the recipe, before any InfoPro run).
_base_ = [
    './deeplabv3plus_efficientnet-lite0-d16_1xb8-1000_camvid-256x352.py',
    '../_base_/infopro/camvid.py'
]
model = dict(_base_.infopro_lite0_k2, balance_shape=(8, 256, 352))
optim_wrapper = _base_.infopro_lite0_optim
