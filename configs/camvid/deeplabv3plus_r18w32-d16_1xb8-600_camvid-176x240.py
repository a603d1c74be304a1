# CamVid CPU proxy, end to end, DeepLabV3+: the DeepLab-V3 proxy next to this
# file (ResNetV1c-18 at half width, output stride 16, from scratch, 600
# iterations of batch 8 on 240x180) with DeepLabV3+'s decoder, which also
# reads layer1 (32 channels, stride 4).
_base_ = './deeplabv3_r18w32-d16_1xb8-600_camvid-176x240.py'
model = dict(
    decode_head=dict(
        type='DepthwiseSeparableASPPHead',
        c1_in_channels=32,
        c1_channels=16))
