"""CamVid (Brostow et al., 2009) in mmseg's ``img_dir/`` + ``ann_dir/`` layout.

The 11 classes of the SegNet copy that most public CamVid downloads follow;
its void id (11) becomes 255 in the converted labels
(:func:`~mmseg_infopro.datasets.camvid_segnet.convert_segnet_camvid`).
"""
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

__all__ = ['CamVidDataset']


@DATASETS.register_module()
class CamVidDataset(BaseSegDataset):
    """CamVid with the 11 classes of the SegNet benchmark; 255 is ignored.

    Expects ``data_root/img_dir/{train,val,test}/*.png`` and the label maps
    (class ids 0-10, 255 = void) under ``ann_dir/`` with the same names,
    as ``tools/dataset_converters/camvid.py`` writes them.

    Args:
        img_suffix (str): Suffix of the images. Defaults to '.png'.
        seg_map_suffix (str): Suffix of the label maps. Defaults to '.png'.
        reduce_zero_label (bool): Whether to map label 0 to 255 (no: 0 is
            sky). Defaults to False.
        **kwargs: Any argument of :class:`mmseg.datasets.BaseSegDataset`.
    """
    METAINFO = dict(
        classes=('sky', 'building', 'pole', 'road', 'sidewalk', 'tree',
                 'sign', 'fence', 'car', 'pedestrian', 'bicyclist'),
        # The palette of the SegNet tutorial's CamVid copy.
        palette=[[128, 128, 128], [128, 0, 0], [192, 192, 128],
                 [128, 64, 128], [60, 40, 222], [128, 128, 0],
                 [192, 128, 128], [64, 64, 128], [64, 0, 128],
                 [64, 64, 0], [0, 128, 192]])

    def __init__(self,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 reduce_zero_label: bool = False,
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            reduce_zero_label=reduce_zero_label,
            **kwargs)
