# The large-crop study's memory saver without InfoPro: the E2E recipe with
# activation checkpointing (every Lite0 element recomputed in the backward
# pass, exact gradients) at InfoPro K = 2's crop, 320x448, which it fits in
# the same 2 GB at batch 8 (tools/analysis/fit.py; it would fit larger).
_base_ = './deeplabv3plus_efficientnet-lite0-d16_1xb8-1000_' \
    'camvid480x360-256x352.py'
crop_size = (320, 448)
# The base's train pipeline with this crop.
train_pipeline = [
    dict(t, crop_size=crop_size) if 'crop_size' in t else t
    for t in _base_.train_pipeline
]
model = dict(
    backbone=dict(with_cp=True), data_preprocessor=dict(size=crop_size))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
