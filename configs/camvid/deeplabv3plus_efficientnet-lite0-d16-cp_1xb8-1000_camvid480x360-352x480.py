# The large-crop study's memory saver without InfoPro: the E2E recipe with
# activation checkpointing (every Lite0 element recomputed in the backward
# pass, exact gradients) at InfoPro K = 2's crop, 352x480, which it fits in
# the same 2 GB at batch 8 (tools/analysis/fit.py; it would fit up to
# 480x672).
_base_ = './deeplabv3plus_efficientnet-lite0-d16_1xb8-1000_' \
    'camvid480x360-352x480.py'
model = dict(backbone=dict(with_cp=True))
