from .camvid import CamVidDataset
from .camvid_segnet import CamVidConversionError, convert_segnet_camvid
from .checks import DatasetCheckError, check_dataloader_cfgs, check_dataset_cfg
from .synthetic_cityscapes import (CITIES, CLASS_COLORS, render_scene,
                                   train_ids_to_label_ids,
                                   write_synthetic_cityscapes)

__all__ = [
    'CamVidDataset', 'CamVidConversionError', 'convert_segnet_camvid',
    'DatasetCheckError', 'check_dataset_cfg', 'check_dataloader_cfgs',
    'CITIES', 'CLASS_COLORS', 'render_scene', 'train_ids_to_label_ids',
    'write_synthetic_cityscapes'
]
