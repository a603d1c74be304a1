# InfoPro K=4 with fp16 mixed precision (needs a GPU).
_base_ = './deeplabv3-infopro-k4_r101-d8_2xb4-40k_cityscapes-512x1024.py'
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
