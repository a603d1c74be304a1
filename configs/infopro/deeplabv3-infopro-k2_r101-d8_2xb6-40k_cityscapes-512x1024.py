# Paper: InfoPro K=2 with the memory it saves spent on a larger batch:
# batch 12 (2 GPUs x 6), 512x1024, lambda = (1, 0.1), lr 0.015, 40k iterations.
_base_ = '../deeplabv3_infopro_cityscapes.py'
model = dict(
    balance_shape=(6, 512, 1024),
    local_head=dict(loss_recon_weight=1.0, loss_task_weight=0.1))
train_dataloader = dict(batch_size=6)
optim_wrapper = dict(optimizer=dict(lr=0.015))
