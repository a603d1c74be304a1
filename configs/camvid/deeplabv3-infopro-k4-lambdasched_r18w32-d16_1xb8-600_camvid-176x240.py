# CamVid CPU proxy, InfoPro K = 4 with the official CIFAR code's K = 4
# schedule: (lambda1, lambda2) interpolated from (1, 0) at the first local
# module to (0, 1) at the last, i.e. (1, 0), (0.5, 0.5), (0, 1): early modules
# keep the image, late ones learn the task.
_base_ = './deeplabv3-infopro-k4_r18w32-d16_1xb8-600_camvid-176x240.py'
model = dict(
    local_head=dict(loss_recon_weight=(1.0, 0.0), loss_task_weight=(0.0,
                                                                    1.0)))
