# The large-crop study's InfoPro K = 2: batch 8 at the largest crop that fits
# the study's 2 GB (tools/analysis/fit.py --budget 2GB --batch 8, CPU):
# 352x480, 1.88x the pixels of the E2E recipe's 256x352, on the same frames
# and schedule (the learning rate stays: the losses are means over pixels).
_base_ = [
    './deeplabv3plus_efficientnet-lite0-d16_1xb8-1000_camvid480x360-'
    '352x480.py', '../_base_/infopro/camvid.py'
]
model = dict(_base_.infopro_lite0_k2, balance_shape=(8, 352, 480))
optim_wrapper = _base_.infopro_lite0_optim
