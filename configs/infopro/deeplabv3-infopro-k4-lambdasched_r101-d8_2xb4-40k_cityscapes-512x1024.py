# InfoPro K=4 with the official CIFAR code's K=4 lambda schedule:
# (lambda1, lambda2) from (1, 0) at the first local module to (0, 1) at the
# last, linearly, i.e. (1, 0), (0.5, 0.5), (0, 1). Unpublished on Cityscapes.
_base_ = './deeplabv3-infopro-k4_r101-d8_2xb4-40k_cityscapes-512x1024.py'
model = dict(
    local_head=dict(loss_recon_weight=(1.0, 0.0), loss_task_weight=(0.0,
                                                                    1.0)))
