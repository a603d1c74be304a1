# Ablation: greedy supervised learning (no reconstruction term, lambda1 = 0),
# K=2, otherwise the paper's InfoPro K=2 setting.
_base_ = '../deeplabv3_infopro_cityscapes.py'
model = dict(local_head=dict(loss_recon_weight=0.0, loss_task_weight=1.0))
