# The large-crop study's InfoPro K = 2: batch 8 at the largest crop that fits
# the study's 2 GB (tools/analysis/fit.py --budget 2GB --batch 8, CPU):
# 320x448, 1.59x the pixels of the E2E recipe's 256x352, on the same frames
# and schedule (the learning rate stays: the losses are means over pixels).
_base_ = './deeplabv3plus-infopro-k2_efficientnet-lite0-d16_1xb8-1000_' \
    'camvid480x360-256x352.py'
crop_size = (320, 448)
# The base's train pipeline with this crop.
train_pipeline = [
    dict(t, crop_size=crop_size) if 'crop_size' in t else t
    for t in _base_.train_pipeline
]
model = dict(
    data_preprocessor=dict(size=crop_size), balance_shape=(8, *crop_size))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
