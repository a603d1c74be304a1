# The paper's InfoPro K=2 run with the memory it saves spent on larger crops:
# batch 8 (2 GPUs x 4), 640x1280, lambda = (2, 1), lr 0.015, 40k iterations,
# the published split (21,).
_base_ = './deeplabv3-infopro-k2_r101-d8_2xb4-40k_cityscapes-512x1024.py'
crop_size = (640, 1280)
model = dict(
    data_preprocessor=dict(size=crop_size),
    # Used only if split_points is overridden with None (automatic split).
    balance_shape=(4, *crop_size),
    local_head=dict(loss_recon_weight=2.0, loss_task_weight=1.0))
# mmseg's Cityscapes train pipeline with this crop.
train_pipeline = [
    dict(t, crop_size=crop_size) if 'crop_size' in t else t
    for t in _base_.train_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
optim_wrapper = dict(optimizer=dict(lr=0.015))
