import glob
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest
from mmengine.config import ConfigDict

from mmseg_infopro.datasets import (DatasetCheckError, check_dataloader_cfgs,
                                    check_dataset_cfg)


def dataset_cfg(root, split='train'):
    return ConfigDict(
        type='CityscapesDataset',
        data_root=root,
        data_prefix=dict(
            img_path=f'leftImg8bit/{split}', seg_map_path=f'gtFine/{split}'),
        pipeline=[])


@pytest.fixture
def root(synthetic_root, tmp_path):
    copy = str(tmp_path / 'cityscapes')
    shutil.copytree(synthetic_root, copy)
    return copy


def test_good_dataset_passes(synthetic_root):
    assert check_dataset_cfg(dataset_cfg(synthetic_root)) == 8
    assert check_dataset_cfg(dataset_cfg(synthetic_root, 'val')) == 4
    wrapped = ConfigDict(
        type='RepeatDataset', times=2, dataset=dataset_cfg(synthetic_root))
    assert check_dataset_cfg(wrapped) == 8
    check_dataloader_cfgs(
        ConfigDict(train_dataloader=dict(dataset=dataset_cfg(synthetic_root))),
        ('train_dataloader', 'val_dataloader'))


def test_missing_data_root(tmp_path):
    missing = str(tmp_path / 'nowhere')
    with pytest.raises(DatasetCheckError) as e:
        check_dataset_cfg(
            dataset_cfg(missing), name='train_dataloader.dataset')
    msg = str(e.value)
    assert missing in msg and 'train_dataloader.dataset.data_root' in msg
    assert 'docs/dataset_prepare.md' in msg
    assert 'synthetic_cityscapes.py' in msg


def test_empty_split(root):
    shutil.rmtree(osp.join(root, 'leftImg8bit', 'val'))
    os.makedirs(osp.join(root, 'leftImg8bit', 'val', 'frankfurt'))
    with pytest.raises(DatasetCheckError, match='split .*is empty'):
        check_dataset_cfg(dataset_cfg(root, 'val'))


def test_missing_labels_point_to_the_converter(root):
    for p in glob.glob(osp.join(root, 'gtFine', 'train', '*', '*TrainIds*')):
        os.remove(p)
    with pytest.raises(DatasetCheckError) as e:
        check_dataset_cfg(dataset_cfg(root))
    assert '8 of 8 images' in str(e.value)
    assert 'tools/dataset_converters/cityscapes.py' in str(e.value)


def test_unreadable_image(root):
    img = sorted(
        glob.glob(osp.join(root, 'leftImg8bit', 'train', '*', '*.png')))[0]
    with open(img, 'wb') as f:
        f.write(b'not a png')
    with pytest.raises(DatasetCheckError) as e:
        check_dataset_cfg(dataset_cfg(root))
    assert img in str(e.value) and 'unreadable image' in str(e.value)


def test_unreadable_label(root):
    label = sorted(
        glob.glob(osp.join(root, 'gtFine', 'train', '*', '*TrainIds.png')))[1]
    with open(label, 'wb') as f:
        f.write(b'\x89PNG broken')
    with pytest.raises(DatasetCheckError, match='unreadable label'):
        check_dataset_cfg(dataset_cfg(root))


def test_label_ids_out_of_range(root):
    label = sorted(
        glob.glob(osp.join(root, 'gtFine', 'train', '*', '*TrainIds.png')))[2]
    ids = cv2.imread(label, cv2.IMREAD_UNCHANGED)
    ids[0, :3] = [19, 33, 254]
    cv2.imwrite(label, ids)
    with pytest.raises(DatasetCheckError) as e:
        check_dataset_cfg(dataset_cfg(root))
    assert label in str(e.value) and '[19, 33, 254]' in str(e.value)
    # The content check can be skipped; the layout is still checked.
    assert check_dataset_cfg(dataset_cfg(root), check_content=False) == 8


def test_colour_label(root):
    label = sorted(
        glob.glob(osp.join(root, 'gtFine', 'train', '*', '*TrainIds.png')))[0]
    cv2.imwrite(label, np.zeros((64, 128, 3), np.uint8))
    with pytest.raises(DatasetCheckError, match='single-channel'):
        check_dataset_cfg(dataset_cfg(root))


def _labels(root, split='train'):
    return sorted(
        glob.glob(osp.join(root, 'gtFine', split, '*', '*TrainIds.png')))


@pytest.mark.parametrize(
    'split, size',
    [
        ('train', (64, 32)),  # the same aspect: mmseg would rescale it
        ('train', (100, 40)),  # another aspect: a stacking error in iter 1
        ('val', (100, 40)),  # IoUMetric would fail at the first validation
    ])
def test_label_of_another_size_than_its_image(root, split, size):
    label = _labels(root, split)[0]
    cv2.imwrite(label, np.zeros(size[::-1], np.uint8))
    with pytest.raises(DatasetCheckError) as e:
        check_dataset_cfg(dataset_cfg(root, split))
    assert label in str(e.value)
    assert f'label size {size[0]}x{size[1]}' in str(e.value)
    assert 'differs from its image' in str(e.value)


def test_palette_labels_are_read_as_mmseg_reads_them(root):
    from PIL import Image
    label = _labels(root)[0]
    ids = cv2.imread(label, cv2.IMREAD_UNCHANGED)
    palette = Image.fromarray(ids, mode='P')
    palette.putpalette([v for i in range(256) for v in (i, 255 - i, 7)])
    palette.save(label)
    assert Image.open(label).mode == 'P'
    assert check_dataset_cfg(dataset_cfg(root)) == 8


def test_truncated_jpeg_is_caught(root, tmp_path):
    from PIL import Image
    jpegs = []
    for png in glob.glob(osp.join(root, 'leftImg8bit', 'train', '*',
                                  '*.png')):
        jpg = png[:-4] + '.jpg'
        Image.open(png).convert('RGB').save(jpg, quality=90)
        os.remove(png)
        jpegs.append(jpg)
    cfg = dataset_cfg(root)
    cfg.img_suffix = '_leftImg8bit.jpg'
    assert check_dataset_cfg(cfg) == 8
    data = open(jpegs[0], 'rb').read()
    with open(jpegs[0], 'wb') as f:
        f.write(data[:len(data) // 2])
    with pytest.raises(DatasetCheckError) as e:
        check_dataset_cfg(cfg)
    assert jpegs[0] in str(e.value) and 'unreadable image' in str(e.value)
