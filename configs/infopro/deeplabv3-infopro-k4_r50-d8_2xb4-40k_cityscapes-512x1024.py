# InfoPro K=4 on ResNet-50-D8.
_base_ = './deeplabv3-infopro-k2_r50-d8_2xb4-40k_cityscapes-512x1024.py'
model = dict(backbone=dict(num_local_modules=4))
