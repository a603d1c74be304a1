"""tools/dataset_converters: real Cityscapes polygons and the synthetic set."""
import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.slow  # the converters run as commands


def run(repo_root, *args):
    return subprocess.run([sys.executable, *args],
                          cwd=repo_root,
                          capture_output=True,
                          text=True,
                          timeout=300)


def test_cityscapes_polygons_to_train_ids(repo_root, tmp_path):
    city = tmp_path / 'gtFine' / 'train' / 'aachen'
    city.mkdir(parents=True)
    polygons = dict(
        imgHeight=32,
        imgWidth=64,
        objects=[
            dict(label='sky', polygon=[[0, 0], [63, 0], [63, 15], [0, 15]]),
            dict(label='road', polygon=[[0, 16], [63, 16], [63, 31], [0, 31]]),
        ])
    (city / 'aachen_000000_000019_gtFine_polygons.json').write_text(
        json.dumps(polygons))
    proc = run(repo_root, 'tools/dataset_converters/cityscapes.py',
               str(tmp_path), '--nproc', '1')
    assert proc.returncode == 0, proc.stderr
    label = cv2.imread(
        str(city / 'aachen_000000_000019_gtFine_labelTrainIds.png'),
        cv2.IMREAD_UNCHANGED)
    assert label.shape == (32, 64)
    assert (label[:10] == 10).all() and (label[20:] == 0).all()  # sky, road


def test_cityscapes_label_ids_to_train_ids(repo_root, tmp_path,
                                           synthetic_root):
    """Copies without polygons: *_labelIds.png are mapped to train ids."""
    import shutil
    root = tmp_path / 'cityscapes'
    shutil.copytree(osp.join(synthetic_root, 'gtFine'), root / 'gtFine')
    expected = {}
    for path in root.glob('gtFine/*/*/*_labelTrainIds.png'):
        expected[path] = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        path.unlink()
    proc = run(repo_root, 'tools/dataset_converters/cityscapes.py', str(root))
    assert proc.returncode == 0, proc.stderr
    for path, train_ids in expected.items():
        np.testing.assert_array_equal(
            cv2.imread(str(path), cv2.IMREAD_UNCHANGED), train_ids)


def test_cityscapes_converter_missing_root(repo_root, tmp_path):
    proc = run(repo_root, 'tools/dataset_converters/cityscapes.py',
               str(tmp_path / 'none'))
    assert proc.returncode != 0 and 'gtFine_trainvaltest.zip' in proc.stderr


def test_synthetic_cli_refuses_non_empty_out(repo_root, tmp_path, run_tool):
    out = tmp_path / 'out'
    args = ('tools/dataset_converters/synthetic_cityscapes.py', str(out),
            '--num-train', '2', '--num-val', '1', '--size', '32', '64')
    assert run(repo_root, *args).returncode == 0
    assert osp.isfile(
        out /
        'gtFine/val/frankfurt/frankfurt_000000_000019_gtFine_labelIds.png')
    again = run_tool(*args, check=False)
    assert again.returncode != 0 and '--overwrite' in again.stderr
    assert 'Traceback' not in again.stderr
    assert run_tool(*args, '--overwrite').returncode == 0
    img = cv2.imread(
        str(out / 'leftImg8bit/train/aachen/'
            'aachen_000000_000019_leftImg8bit.png'))
    assert img.shape == (32, 64, 3) and np.ptp(img) > 0
