# CamVid CPU proxy, end to end: DeepLab-V3 from scratch on half-resolution
# CamVid (240x180, crops 176x240), batch 8, 600 iterations (13 epochs), poly
# lr from 0.01; about 7 minutes on 2 CPU cores. The backbone is ResNetV1c-18
# at half width (base 32 channels: "r18w32") and output stride 16 ("d16":
# dilated layer4), so that a run fits in minutes (R-18-D8 at full width
# takes 4.8 s per iteration here, this one 0.7 s).
# The E2E reference of the accuracy study (docs/benchmarks.md, "Accuracy on
# real data"); the InfoPro, greedy and K = 4 recipes next to it inherit this
# file and change only the model.
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py',
    '../_base_/datasets/camvid_half.py',
    '../_base_/schedules/schedule_camvid.py'
]
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(
        depth=18,
        stem_channels=32,
        base_channels=32,
        strides=(1, 2, 2, 1),
        dilations=(1, 1, 1, 2),
        norm_cfg=norm_cfg),
    # ASPP rates scaled to the 11x15 feature maps (DeepLab-V3 uses 6, 12, 18
    # on 33x33 maps at output stride 16).
    decode_head=dict(
        in_channels=256,
        channels=64,
        dilations=(1, 2, 4, 6),
        num_classes=11,
        norm_cfg=norm_cfg),
    auxiliary_head=dict(
        in_channels=128, channels=32, num_classes=11, norm_cfg=norm_cfg))

env_cfg = dict(cudnn_benchmark=False)
