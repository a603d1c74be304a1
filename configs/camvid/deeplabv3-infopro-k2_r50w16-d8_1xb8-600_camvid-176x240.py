# CamVid CPU proxy for the equal-memory study, InfoPro K = 2: the r50w16-d8
# E2E recipe next to this file with the InfoPro model of the r18w32-d16
# InfoPro K = 2 recipe (automatic split, lambda = (1.5, 1), task head 64).
_base_ = [
    './deeplabv3_r50w16-d8_1xb8-600_camvid-176x240.py',
    '../_base_/infopro/camvid.py'
]
model = _base_.infopro_proxy_model
# Measures the automatic split (and builds the local heads) before the
# optimizer collects the parameters; otherwise mmengine's default.
optim_wrapper = dict(constructor='InfoProOptimWrapperConstructor')
