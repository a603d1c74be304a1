# CamVid at its published resolution (480x360, ../shared/camvid/CamVid-480x360
# converted with tools/dataset_converters/camvid.py into data/camvid), end to
# end: the E2E recipe of the large-crop study (docs/benchmarks.md, "Larger
# crops within the same memory"). The model and optimizer are the half-
# resolution DeepLabV3+ recipe's (ImageNet EfficientNet-Lite0, output stride
# 16, heads at 10x lr); the frames keep their 480x360 (random scales 0.5-2x),
# and batch 8 takes the largest crop that fits 2 GB end to end on the CPU
# (tools/analysis/fit.py): 256x352. Predictions are evaluated at 480x360.
_base_ = './deeplabv3plus_efficientnet-lite0-d16_1xb8-1600_camvid-176x240.py'
data_root = 'data/camvid/'
img_scale = (480, 360)
crop_size = (256, 352)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=img_scale,
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_scale, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
model = dict(data_preprocessor=dict(size=crop_size))
train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
iters = 1000
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=iters, val_interval=iters)
default_hooks = dict(checkpoint=dict(interval=iters // 5))
