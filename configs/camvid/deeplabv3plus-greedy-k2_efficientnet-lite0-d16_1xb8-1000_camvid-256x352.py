# CamVid in the pretrained regime, greedy supervised learning K = 2 (the
# paper's ablation baseline): InfoPro K = 2 without the reconstruction term
# (lambda1 = 0), module 1 trained by its task head alone, at the split the
# planner chooses for InfoPro K = 2 here, (8,) (module 1: the stem and the
# first seven blocks, 80 channels at stride 16), so that only the loss differs.
_base_ = './deeplabv3plus-infopro-k2_efficientnet-lite0-d16_1xb8-1000_camvid-256x352.py'  # noqa: E501
model = dict(
    backbone=dict(split_points=(8, )),
    local_head=dict(loss_recon_weight=0.0, loss_task_weight=1.0))
