# CamVid in the pretrained regime, end to end, DeepLabV3+: the DeepLab-V3
# recipe next to this file with DeepLabV3+'s decoder, which also reads the
# stride-4 features (24 channels) for thin structures (poles, signs).
_base_ = './deeplabv3_efficientnet-lite0-d16_1xb8-1600_camvid-176x240.py'
model = dict(
    backbone=dict(out_indices=(1, 4)),
    decode_head=dict(
        type='DepthwiseSeparableASPPHead',
        in_index=1,
        c1_in_channels=24,
        c1_channels=48))
