"""CamVid: the SegNet-layout conversion, the dataset class and its checks."""
import os
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine.config import ConfigDict
from mmseg.registry import DATASETS

from mmseg_infopro.datasets import (CamVidConversionError, CamVidDataset,
                                    DatasetCheckError, check_dataset_cfg,
                                    convert_segnet_camvid)


def camvid_cfg(root, split='train'):
    return ConfigDict(
        type='CamVidDataset',
        data_root=root,
        data_prefix=dict(
            img_path=f'img_dir/{split}', seg_map_path=f'ann_dir/{split}'),
        pipeline=[])


def read(path):
    return cv2.imread(path, cv2.IMREAD_UNCHANGED)


def test_conversion_maps_void_to_255_and_keeps_ids(segnet_camvid, tmp_path):
    out = str(tmp_path / 'out')
    assert convert_segnet_camvid(segnet_camvid, out) == dict(train=4, val=2)
    name = '0001TP_000000.png'
    src = read(osp.join(segnet_camvid, 'trainannot', name))
    label = read(osp.join(out, 'ann_dir', 'train', name))
    assert (label[src == 11] == 255).all()
    assert (label[src != 11] == src[src != 11]).all()
    np.testing.assert_array_equal(
        read(osp.join(out, 'img_dir', 'train', name)),
        read(osp.join(segnet_camvid, 'train', name)))


def test_scale_resizes_images_and_labels_by_nearest(segnet_camvid, tmp_path):
    out = str(tmp_path / 'half')
    convert_segnet_camvid(segnet_camvid, out, scale=0.5)
    name = '0001TP_000001.png'
    image = read(osp.join(out, 'img_dir', 'val', name))
    label = read(osp.join(out, 'ann_dir', 'val', name))
    assert image.shape == (24, 32, 3) and label.shape == (24, 32)
    assert set(np.unique(label)) <= set(range(11)) | {255}


def test_bad_sources_are_named(segnet_camvid, tmp_path):
    with pytest.raises(CamVidConversionError, match='SegNet layout'):
        convert_segnet_camvid(str(tmp_path), str(tmp_path / 'out'))
    os.remove(osp.join(segnet_camvid, 'valannot', '0001TP_000001.png'))
    with pytest.raises(CamVidConversionError,
                       match=r'1 of 2 images .*0001TP_000001\.png'):
        convert_segnet_camvid(segnet_camvid, str(tmp_path / 'out'))


def test_label_ids_above_void_are_refused(segnet_camvid, tmp_path):
    path = osp.join(segnet_camvid, 'trainannot', '0001TP_000002.png')
    label = read(path)
    label[10, 10] = 19
    cv2.imwrite(path, label)
    with pytest.raises(
            CamVidConversionError,
            match=r'0001TP_000002\.png: label ids \[19\] are outside 0\.\.11'):
        convert_segnet_camvid(segnet_camvid, str(tmp_path / 'out'))


def test_existing_output_needs_overwrite(segnet_camvid, tmp_path):
    out = str(tmp_path / 'out')
    convert_segnet_camvid(segnet_camvid, out)
    with pytest.raises(CamVidConversionError, match='--overwrite'):
        convert_segnet_camvid(segnet_camvid, out)
    assert convert_segnet_camvid(segnet_camvid, out, overwrite=True)


def test_cli_reports_errors_and_progress(run_python, run_tool, repo_root,
                                         segnet_camvid, tmp_path):
    out = str(tmp_path / 'out')
    proc = run_python(repo_root, 'tools/dataset_converters/camvid.py',
                      segnet_camvid, out, '--scale', '0.5')
    assert 'converted 4 train, 2 val images' in proc.stdout
    assert '4/4' in proc.stdout  # the progress bar
    proc = run_tool(
        'tools/dataset_converters/camvid.py',
        str(tmp_path / 'nothing'),
        out,
        check=False)
    assert proc.returncode != 0 and 'does not exist' in proc.stderr


def test_dataset_reads_the_converted_layout(camvid_root):
    dataset = DATASETS.build(camvid_cfg(camvid_root))
    assert isinstance(dataset, CamVidDataset) and len(dataset) == 4
    assert len(dataset.metainfo['classes']) == 11
    assert len(dataset.metainfo['palette']) == 11
    assert dataset.metainfo['classes'][0] == 'sky'


def test_data_check_knows_camvid_has_11_classes(camvid_root, tmp_path):
    assert check_dataset_cfg(camvid_cfg(camvid_root, 'val')) == 2
    # Unconverted SegNet labels (void = 11) are not 11-class id maps.
    bad = tmp_path / 'bad'
    os.makedirs(bad / 'img_dir' / 'val')
    os.makedirs(bad / 'ann_dir' / 'val')
    label = np.full((8, 8), 11, np.uint8)
    cv2.imwrite(str(bad / 'img_dir' / 'val' / 'a.png'),
                np.zeros((8, 8, 3), np.uint8))
    cv2.imwrite(str(bad / 'ann_dir' / 'val' / 'a.png'), label)
    with pytest.raises(DatasetCheckError, match=r'\[11\] are outside 0\.\.10'):
        check_dataset_cfg(camvid_cfg(str(bad), 'val'))
    with pytest.raises(DatasetCheckError, match='dataset_converters/camvid'):
        check_dataset_cfg(camvid_cfg(str(tmp_path / 'missing')))
