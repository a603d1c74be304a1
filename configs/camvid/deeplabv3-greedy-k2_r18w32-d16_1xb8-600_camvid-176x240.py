# CamVid CPU proxy, greedy supervised learning K = 2 (the paper's ablation
# baseline): InfoPro K = 2 without the reconstruction term (lambda1 = 0), so
# module 1 is trained by its task head alone. Not DGL (Belilovsky et al.,
# 2020), whose auxiliary networks differ.
_base_ = './deeplabv3-infopro-k2_r18w32-d16_1xb8-600_camvid-176x240.py'
model = dict(local_head=dict(loss_recon_weight=0.0, loss_task_weight=1.0))
