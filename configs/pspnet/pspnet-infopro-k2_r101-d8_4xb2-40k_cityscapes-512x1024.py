# PSPNet R-101-D8 on Cityscapes (batch 8 as 4 GPUs x 2, 512x1024, 40k)
# with InfoPro, K = 2 local modules (automatic, memory-balanced split),
# lambda = (1.5, 1) as in the paper's DeepLab-V3 runs; everything else is
# mmseg's recipe:
#   pspnet_r101-d8_4xb2-40k_cityscapes-512x1024.py
# No InfoPro run of this model was published. K = 4:
#   --cfg-options model.backbone.num_local_modules=4
_base_ = [
    'mmseg::pspnet/pspnet_r101-d8_4xb2-40k_cityscapes-512x1024.py',
    '../_base_/infopro/runtime.py',
    '../_base_/infopro/cityscapes.py'
]
model = _base_.infopro_k2
optim_wrapper = dict(constructor='InfoProOptimWrapperConstructor')
