# The paper's InfoPro K=2 run with the memory it saves spent on a larger
# batch: batch 12 (2 GPUs x 6), 512x1024, lambda = (1, 0.1), lr 0.015, 40k
# iterations, the published split (21,).
_base_ = './deeplabv3-infopro-k2_r101-d8_2xb4-40k_cityscapes-512x1024.py'
model = dict(
    # Used only if split_points is overridden with None (automatic split).
    balance_shape=(6, 512, 1024),
    local_head=dict(loss_recon_weight=1.0, loss_task_weight=0.1))
train_dataloader = dict(batch_size=6)
optim_wrapper = dict(optimizer=dict(lr=0.015))
