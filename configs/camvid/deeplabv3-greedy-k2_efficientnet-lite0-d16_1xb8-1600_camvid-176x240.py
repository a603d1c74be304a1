# CamVid in the pretrained regime, greedy supervised learning K = 2 (the
# paper's ablation baseline): InfoPro K = 2 without the reconstruction term
# (lambda1 = 0), module 1 trained by its task head alone, at the split the
# planner chooses for InfoPro K = 2 here, (5,) (module 1: stem and the first
# four blocks, 40 channels at stride 8), so that only the loss differs.
_base_ = './deeplabv3-infopro-k2_efficientnet-lite0-d16_1xb8-1600_camvid-176x240.py'  # noqa: E501
model = dict(
    backbone=dict(split_points=(5, )),
    local_head=dict(loss_recon_weight=0.0, loss_task_weight=1.0))
