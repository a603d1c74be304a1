# `make demo`: the main InfoPro config shrunk to finish on 2 CPU cores in a
# few minutes: ResNet-18 (with heads narrowed to match), 128x256 crops of the
# synthetic 256x512 Cityscapes-format set, 300 iterations, plain BN.
_base_ = '../deeplabv3_infopro_cityscapes.py'

crop_size = (128, 256)
norm_cfg = dict(type='BN', requires_grad=True)
data_root = 'data/synthetic_cityscapes/'
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=crop_size),
    balance_shape=(4, *crop_size),
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=512, channels=128, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=256, channels=64, norm_cfg=norm_cfg),
    local_head=dict(norm_cfg=norm_cfg, task_head=dict(channels=128)))

# The synthetic images are 256x512: mmseg's Cityscapes pipelines resized
# around that scale, not 1024x2048, and cropped to 128x256.
train_pipeline = [
    dict(t, scale=(512, 256)) if 'scale' in t else
    dict(t, crop_size=crop_size) if 'crop_size' in t else t
    for t in _base_.train_pipeline
]
test_pipeline = [
    dict(t, scale=(512, 256)) if 'scale' in t else t
    for t in _base_.test_pipeline
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    num_workers=2, dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

iters = 300
param_scheduler = [dict(s, end=iters) for s in _base_.param_scheduler]
train_cfg = dict(max_iters=iters, val_interval=iters)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=iters))
env_cfg = dict(cudnn_benchmark=False)
