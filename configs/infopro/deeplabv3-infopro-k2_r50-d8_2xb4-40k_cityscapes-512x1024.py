# InfoPro K=2 on ResNet-50-D8 (ImageNet-pretrained resnet50_v1c).
_base_ = '../deeplabv3_infopro_cityscapes.py'
model = dict(
    pretrained='open-mmlab://resnet50_v1c', backbone=dict(depth=50))
