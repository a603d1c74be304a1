# CamVid CPU proxy, end to end, SegFormer: MiT-B0 from scratch on
# half-resolution CamVid (240x180, crops 176x240), batch 8, 600 iterations,
# with the all-MLP head narrowed to 64 channels. AdamW with lr 6e-4 (ten
# times SegFormer's 6e-5, which fine-tunes ImageNet weights), 60 warm-up
# iterations, then poly. Transformers learn slowly from scratch on 367
# images: a proxy for comparing E2E and InfoPro, not a CamVid result.
_base_ = [
    'mmseg::_base_/models/segformer_mit-b0.py',
    '../_base_/datasets/camvid_half.py',
    '../_base_/schedules/schedule_camvid.py'
]
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=_base_.crop_size),
    decode_head=dict(channels=64, num_classes=11, norm_cfg=norm_cfg))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=0.0006, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        custom_keys={
            'pos_block': dict(decay_mult=0.),
            'norm': dict(decay_mult=0.),
            'head': dict(lr_mult=10.)
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=60),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=1.0,
        begin=60,
        end=_base_.iters,
        by_epoch=False)
]
env_cfg = dict(cudnn_benchmark=False)
