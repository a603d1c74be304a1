# The runtime and schedule of the CamVid recipes: mmseg's default runtime and
# 20k schedule (SGD with lr 0.01, momentum 0.9, weight decay 5e-4; poly decay
# to 1e-4) over `iters` = 600 iterations, one validation at the end and a
# checkpoint every quarter of the run (the last one kept), loadable with
# torch's weights_only=True (torch >= 2.6). A config of another length
# re-derives what depends on it:
#   iters = 1000
#   param_scheduler = [dict(s, end=iters) for s in _base_.param_scheduler]
#   train_cfg = dict(max_iters=iters, val_interval=iters)
#   default_hooks = dict(checkpoint=dict(interval=iters // 5))
_base_ = [
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_20k.py'
]
iters = 600
param_scheduler = [
    dict(
        type='PolyLR',
        eta_min=1e-4,
        power=0.9,
        begin=0,
        end=iters,
        by_epoch=False)
]
train_cfg = dict(max_iters=iters, val_interval=iters)
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=iters // 4, max_keep_ckpts=1))
custom_hooks = [dict(type='WeightsOnlyCheckpointHook')]
