# CamVid at half resolution (240x180), e.g. ../shared/camvid converted with
# tools/dataset_converters/camvid.py, or the original set with --scale 0.5:
#   data/camvid-half/img_dir/{train,val}/*.png, ann_dir/{train,val}/*.png
_base_ = './camvid.py'
data_root = 'data/camvid-half/'
img_scale = (240, 180)
crop_size = (176, 240)
# camvid.py's pipelines at this scale and crop.
train_pipeline = [
    dict(t, scale=img_scale) if 'scale' in t else
    dict(t, crop_size=crop_size) if 'crop_size' in t else t
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
