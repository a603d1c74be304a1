import glob
import os.path as osp

import cv2
import numpy as np
import pytest
from cityscapesscripts.helpers.labels import id2label

from mmseg_infopro.datasets import (render_scene, train_ids_to_label_ids,
                                    write_synthetic_cityscapes)


def test_cityscapes_layout_and_ids(synthetic_root):
    imgs = sorted(
        glob.glob(osp.join(synthetic_root, 'leftImg8bit', '*', '*', '*.png')))
    assert len(imgs) == 12
    for img_path in imgs:
        rel = osp.relpath(img_path, osp.join(synthetic_root, 'leftImg8bit'))
        split, city, name = rel.split(osp.sep)
        assert split in ('train', 'val')
        assert name.startswith(city + '_')
        city_, seq, frame, suffix = name.split('_')
        assert suffix == 'leftImg8bit.png' and len(seq) == len(frame) == 6
        stem = name[:-len('_leftImg8bit.png')]
        gt = osp.join(synthetic_root, 'gtFine', split, city, stem)
        img = cv2.imread(img_path)
        train_ids = cv2.imread(gt + '_gtFine_labelTrainIds.png',
                               cv2.IMREAD_UNCHANGED)
        label_ids = cv2.imread(gt + '_gtFine_labelIds.png',
                               cv2.IMREAD_UNCHANGED)
        assert img.shape == (64, 128, 3) and train_ids.shape == (64, 128)
        assert set(np.unique(train_ids)) <= set(range(19)) | {255}
        # labelIds and labelTrainIds agree through Cityscapes' own table.
        for lid in np.unique(label_ids):
            expected = id2label[int(lid)].trainId
            got = np.unique(train_ids[label_ids == lid])
            assert list(got) == [255 if expected in (-1, 255) else expected]
    assert len(
        glob.glob(osp.join(synthetic_root, 'leftImg8bit', 'val', '*',
                           '*'))) == 4


def test_scenes_are_varied_street_scenes():
    seen = set()
    for i in range(30):
        img, label = render_scene(np.random.default_rng([0, 0, i]), 128, 256)
        seen |= set(np.unique(label).tolist())
        assert img.std() > 20  # textured, not flat colour
    assert set(range(19)) <= seen  # every Cityscapes class appears


def test_deterministic_for_a_seed(tmp_path):
    a, b, c = tmp_path / 'a', tmp_path / 'b', tmp_path / 'c'
    write_synthetic_cityscapes(str(a), 2, 1, size=(32, 64), seed=7)
    write_synthetic_cityscapes(str(b), 3, 1, size=(32, 64), seed=7)
    write_synthetic_cityscapes(str(c), 2, 1, size=(32, 64), seed=8)
    files = sorted(
        osp.relpath(p, a)
        for p in glob.glob(str(a / '**' / '*.png'), recursive=True))
    assert len(files) == 9
    for rel in files:  # b has one more train image; the common ones agree
        assert (a / rel).read_bytes() == (b / rel).read_bytes()
    assert any(
        (a / rel).read_bytes() != (c / rel).read_bytes() for rel in files)


def test_refuses_a_non_empty_folder(tmp_path):
    (tmp_path / 'keep.txt').write_text('x')
    with pytest.raises(FileExistsError, match='--overwrite'):
        write_synthetic_cityscapes(str(tmp_path), 1, 1, size=(32, 64))
    write_synthetic_cityscapes(
        str(tmp_path), 1, 1, size=(32, 64), overwrite=True)
    assert (tmp_path / 'keep.txt').exists()  # only its own folders replaced


def test_label_id_mapping():
    lids = train_ids_to_label_ids(np.array([[0, 13, 255]], np.uint8))
    assert lids.tolist() == [[7, 26, 0]]
