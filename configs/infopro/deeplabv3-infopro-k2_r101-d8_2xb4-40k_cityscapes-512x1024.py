# Paper, Table 4 row "InfoPro K=2": batch 8 (2 GPUs x 4), 512x1024,
# lambda = (1.5, 1), lr 0.01, 40k iterations. Same as the main config.
_base_ = '../deeplabv3_infopro_cityscapes.py'
