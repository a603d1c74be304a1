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
# The InfoPro K = 2 model of the pretrained (ImageNet Lite0) recipes, over
# their E2E model: the automatic split (set `balance_shape` to the batch the
# config trains), the local task head of the decode head's 128 channels; and
# its optimizer: the local heads built before the optimizer collects the
# parameters, at the decode head's 10x lr (new heads on a pretrained
# backbone). A config takes them as
#   model = dict(_base_.infopro_lite0_k2, balance_shape=(8, 256, 352))
#   optim_wrapper = _base_.infopro_lite0_optim
infopro_lite0_k2 = dict(
    type='InfoProEncoderDecoder',
    backbone=dict(num_local_modules=2, split_points=None),
    local_head=dict(infopro_local_head, task_head=dict(channels=128)))
infopro_lite0_optim = dict(
    constructor='InfoProOptimWrapperConstructor',
    paramwise_cfg=dict(custom_keys={'local_heads': dict(lr_mult=10.0)}))
