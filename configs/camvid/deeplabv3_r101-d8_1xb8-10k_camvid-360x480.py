# CamVid on a GPU, end to end: DeepLab-V3 R-101-D8 from ImageNet-pretrained
# ResNetV1c weights, the original resolution (480x360, crops 360x480),
# batch 8 on one GPU, 10k iterations (about 220 epochs of the 367 training
# images), poly lr from 0.01. Data: the original CamVid converted with
# tools/dataset_converters/camvid.py to data/camvid.
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py', '../_base_/datasets/camvid.py',
    '../_base_/schedules/schedule_camvid.py'
]
norm_cfg = dict(type='BN', requires_grad=True)  # one GPU: no SyncBN
model = dict(
    pretrained='open-mmlab://resnet101_v1c',
    data_preprocessor=dict(size=_base_.crop_size),
    backbone=dict(depth=101, norm_cfg=norm_cfg),
    decode_head=dict(num_classes=11, norm_cfg=norm_cfg),
    auxiliary_head=dict(num_classes=11, norm_cfg=norm_cfg))
iters = 10000
param_scheduler = [dict(s, end=iters) for s in _base_.param_scheduler]
train_cfg = dict(max_iters=iters, val_interval=1000)
default_hooks = dict(checkpoint=dict(interval=1000, max_keep_ckpts=2))
