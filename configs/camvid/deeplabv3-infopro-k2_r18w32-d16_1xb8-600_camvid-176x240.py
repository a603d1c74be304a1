# CamVid CPU proxy, InfoPro K = 2: the E2E recipe next to this file with the
# backbone cut into 2 local modules at the automatic (memory-balanced) split,
# module 1 trained by an InfoPro local head with the paper's Cityscapes
# lambda1 = 1.5 (reconstruction), lambda2 = 1 (task). The task head is
# narrowed to 64 channels as the decode heads are (the paper: 512 on
# ResNet-101's 1024-channel layer3).
_base_ = [
    './deeplabv3_r18w32-d16_1xb8-600_camvid-176x240.py',
    '../_base_/infopro/camvid.py'
]
model = _base_.infopro_proxy_model
# Measures the automatic split (and builds the local heads) before the
# optimizer collects the parameters; otherwise mmengine's default.
optim_wrapper = dict(constructor='InfoProOptimWrapperConstructor')
