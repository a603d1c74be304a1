# CamVid at its published resolution (480x360, ../shared/camvid/CamVid-480x360
# converted with tools/dataset_converters/camvid.py into data/camvid), end to
# end: the E2E recipe of the large-crop study (docs/benchmarks.md, "Larger
# crops within the same memory"). The half-resolution DeepLabV3+ recipe next
# to this file (ImageNet EfficientNet-Lite0, output stride 16, heads at 10x
# lr, 1000 iterations of batch 8 of 256x352 crops) on the frames at their own
# 480x360 (random scales 0.5-2x): 256x352 is also the largest crop that batch
# 8 fits in 2 GB end to end on the CPU (tools/analysis/fit.py). Predictions
# are evaluated at 480x360.
_base_ = './deeplabv3plus_efficientnet-lite0-d16_1xb8-1000_camvid-256x352.py'
data_root = 'data/camvid/'
img_scale = (480, 360)
# The base's pipelines at the frames' own scale.
train_pipeline = [
    dict(t, scale=img_scale) if 'scale' in t else t
    for t in _base_.train_pipeline
]
test_pipeline = [
    dict(t, scale=img_scale) if 'scale' in t else t
    for t in _base_.test_pipeline
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
