# CamVid in the pretrained regime, InfoPro K = 4: the InfoPro K = 2 recipe next
# to this file with 4 local modules at the automatic split (the same lambdas
# for the three local heads).
_base_ = './deeplabv3plus-infopro-k2_efficientnet-lite0-d16_1xb8-1000_camvid-256x352.py'  # noqa: E501
model = dict(backbone=dict(num_local_modules=4))
