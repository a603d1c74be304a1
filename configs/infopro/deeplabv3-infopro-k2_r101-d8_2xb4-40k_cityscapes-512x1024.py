# The paper's InfoPro K=2 Cityscapes run (Wang et al., ICLR 2021; the
# official code's infopro_deeplabv3_r101-d8_512x1024_40k_cityscapes.py):
# batch 8 (2 GPUs x 4), 512x1024, lambda = (1.5, 1), lr 0.01, 40k iterations,
# and the published split (21,): stem, layer1, layer2 and 13 of layer3's 23
# blocks in module 1. The main config is the same with the automatic split.
_base_ = '../deeplabv3_infopro_cityscapes.py'
model = dict(backbone=dict(split_points=(21, )))
