# InfoPro K=2, paper setting, with fp16 mixed precision (needs a GPU).
_base_ = '../deeplabv3_infopro_cityscapes.py'
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic')
