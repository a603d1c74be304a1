# CamVid CPU proxy for the equal-memory study, InfoPro K = 4 (automatic
# split, lambda = (1.5, 1) in every local module).
_base_ = './deeplabv3-infopro-k2_r50w16-d8_1xb8-600_camvid-176x240.py'
model = dict(backbone=dict(num_local_modules=4))
