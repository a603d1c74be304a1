# CamVid CPU proxy for the equal-memory study, end to end: as the
# r18w32-d16 proxy next to this file, with a deep, narrow backbone whose
# activations dominate training memory, as ResNet-101-D8's do on Cityscapes:
# ResNetV1c-50 at quarter width (base 16 channels: "r50w16") and output
# stride 8 ("d8"). On the r18w32-d16 proxy most of the memory is the heads'
# full-resolution logits, which every method keeps, so InfoPro saves little
# there (docs/benchmarks.md). 1.3 s per iteration of batch 8 on 2 cores.
_base_ = './deeplabv3_r18w32-d16_1xb8-600_camvid-176x240.py'
model = dict(
    backbone=dict(
        depth=50,
        stem_channels=32,
        base_channels=16,
        strides=(1, 2, 1, 1),
        dilations=(1, 1, 2, 4)),
    # Stride-8 maps of 22x30: twice the rates of the stride-16 proxy.
    decode_head=dict(in_channels=512, dilations=(1, 4, 8, 12)),
    auxiliary_head=dict(in_channels=256))
