# Paper: InfoPro K=2 with the memory it saves spent on larger crops:
# batch 8 (2 GPUs x 4), 640x1280, lambda = (2, 1), lr 0.015, 40k iterations.
_base_ = '../deeplabv3_infopro_cityscapes.py'
crop_size = (640, 1280)
model = dict(
    data_preprocessor=dict(size=crop_size),
    balance_shape=(4, *crop_size),
    local_head=dict(loss_recon_weight=2.0, loss_task_weight=1.0))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='RandomResize',
        scale=(2048, 1024),
        ratio_range=(0.5, 2.0),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=0.015))
