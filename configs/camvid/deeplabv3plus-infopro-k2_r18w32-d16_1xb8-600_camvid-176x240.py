# CamVid CPU proxy, DeepLabV3+ with InfoPro K = 2 (automatic split,
# lambda = (1.5, 1), task head of 64 channels): layer1's output, which the
# decoder reads, reaches it detached from module 1.
_base_ = [
    './deeplabv3plus_r18w32-d16_1xb8-600_camvid-176x240.py',
    '../_base_/infopro/camvid.py'
]
model = _base_.infopro_proxy_model
# Measures the automatic split (and builds the local heads) before the
# optimizer collects the parameters; otherwise mmengine's default.
optim_wrapper = dict(constructor='InfoProOptimWrapperConstructor')
