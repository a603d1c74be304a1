# The large-crop study's InfoPro K = 2 at the E2E recipe's crop (for fit.py's
# table and equal-crop checks): the E2E recipe next to this file with Lite0
# cut into 2 local modules at the automatic split, module 1 trained by the
# InfoPro local head of the half-resolution study (lambda1 = 1.5, lambda2 = 1,
# task head of the decode head's 128 channels at 10x lr).
_base_ = [
    './deeplabv3plus_efficientnet-lite0-d16_1xb8-1000_camvid480x360-'
    '256x352.py', '../_base_/infopro/camvid.py'
]
model = dict(_base_.infopro_lite0_k2, balance_shape=(8, 256, 352))
optim_wrapper = _base_.infopro_lite0_optim
