# InfoPro with K=4 local modules (split chosen automatically), otherwise the
# paper's K=2 setting: batch 8 (2 GPUs x 4), 512x1024, lambda = (1.5, 1).
_base_ = '../deeplabv3_infopro_cityscapes.py'
model = dict(backbone=dict(num_local_modules=4))
