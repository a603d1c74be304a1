# The InfoPro pieces of the CamVid recipes (see cityscapes.py for why they are
# variables: mmengine refuses a `model` key in two bases).
#
# The local head: 11 classes, BN (one process), the paper's Cityscapes
# lambda1 (reconstruction) = 1.5, lambda2 (task) = 1.
infopro_local_head = dict(
    type='InfoProHead',
    num_classes=11,
    loss_recon_weight=1.5,
    loss_task_weight=1.0,
    norm_cfg=dict(type='BN', requires_grad=True))
# The InfoPro K = 2 model of the CPU proxies (ResNetV1c, automatic split
# balanced for batch 8 of 176x240 crops, task head narrowed as their decode
# heads): model = _base_.infopro_proxy_model, or with another backbone
# adapter dict(_base_.infopro_proxy_model, backbone=dict(type=..., ...)).
infopro_proxy_model = dict(
    type='InfoProEncoderDecoder',
    backbone=dict(
        type='InfoProResNetV1c', num_local_modules=2, split_points=None),
    balance_shape=(8, 176, 240),
    local_head=dict(infopro_local_head, task_head=dict(channels=64)))
