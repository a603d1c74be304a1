# The local head of the paper's Cityscapes runs (19 classes, SyncBN):
# lambda1 (reconstruction) = 1.5, lambda2 (task) = 1, each a number or a
# (first, last) pair interpolated across the local modules. mmengine refuses a
# `model` key in two bases, so this is a variable: a config takes it with
#   model = dict(..., local_head=_base_.infopro_local_head)
# or changes it with dict(_base_.infopro_local_head, task_head=dict(...)).
# Put this file next to the mmseg config and runtime.py in `_base_`.
infopro_local_head = dict(
    type='InfoProHead',
    num_classes=19,
    loss_recon_weight=1.5,
    loss_task_weight=1.0,
    norm_cfg=dict(type='SyncBN', requires_grad=True))
# InfoPro K = 2 for mmseg's ResNetV1c recipes on Cityscapes (2 images of
# 512x1024 per GPU): the automatic split, balanced for that batch. A config
# next to an mmseg DeepLabV3+, PSPNet or UPerNet R-50/101 recipe takes it
# whole, model = _base_.infopro_k2; another backbone or batch replaces
# `backbone` (with its InfoPro adapter) or `balance_shape`.
infopro_k2 = dict(
    type='InfoProEncoderDecoder',
    backbone=dict(
        type='InfoProResNetV1c', num_local_modules=2, split_points=None),
    balance_shape=(2, 512, 1024),
    local_head=infopro_local_head)
