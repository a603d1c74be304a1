"""`make demo` names files that must exist (config) or be generated
(the overlay's input image)."""
import os.path as osp
import re

from mmengine.config import Config

from mmseg_infopro.datasets import write_synthetic_cityscapes


def make_vars(repo_root):
    text = open(osp.join(repo_root, 'Makefile')).read()
    values = dict(re.findall(r'^(\w+)\s*[:?]?=\s*(.*)$', text, re.M))
    return {
        k: re.sub(r'\$\((\w+)\)', lambda m: values[m.group(1)], v).strip()
        for k, v in values.items()
    }


def test_demo_targets_are_consistent(repo_root, tmp_path):
    v = make_vars(repo_root)
    cfg = Config.fromfile(osp.join(repo_root, v['DEMO_CFG']))
    assert cfg.model.type == 'InfoProEncoderDecoder'  # the demo trains InfoPro
    assert cfg.train_dataloader.dataset.data_root.rstrip('/') == v['DEMO_DATA']
    assert v['DEMO_IMG'].startswith(v['DEMO_DATA'] + '/')
    write_synthetic_cityscapes(str(tmp_path), 1, 1, size=(32, 64))
    assert osp.isfile(tmp_path / v['DEMO_IMG'][len(v['DEMO_DATA']) + 1:])
