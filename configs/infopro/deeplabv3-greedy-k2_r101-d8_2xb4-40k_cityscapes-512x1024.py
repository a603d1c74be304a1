# Ablation: greedy supervised learning, K=2: the paper's InfoPro K=2 run
# (published split (21,)) without the reconstruction term (lambda1 = 0), so
# module 1 is trained by its task head alone. This is not DGL (Belilovsky et
# al., 2020, the paper's Cityscapes baseline), which trains other auxiliary
# networks; the paper published no greedy run on Cityscapes.
_base_ = './deeplabv3-infopro-k2_r101-d8_2xb4-40k_cityscapes-512x1024.py'
model = dict(local_head=dict(loss_recon_weight=0.0, loss_task_weight=1.0))
