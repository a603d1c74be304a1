"""A training killed with SIGKILL and resumed ends with the weights of an
uninterrupted run of the same seed.

On a pipeline without random augmentation and a model without dropout,
mmengine restores everything the run depends on: weights, SGD momentum, the
iteration, the LR schedule, and the data order (the InfiniteSampler is
seeded; on resume the train loop advances the dataloader past the
iterations already trained). What it does not restore is the global RNG
state: with dropout (or random augmentation in workers) the resumed run
draws other masks, so this test turns dropout off; that is the reason the
two runs could otherwise differ.
"""
import os.path as osp
import signal
import subprocess
import sys
import time

import torch

ITERS = 4


def _config(path, base, root):
    path.write_text(f"""
_base_ = '{base}'
data_root = '{root}'
crop_size = (64, 128)
model = dict(
    decode_head=dict(dropout_ratio=0.0),
    auxiliary_head=dict(dropout_ratio=0.0),
    local_head=dict(task_head=dict(dropout_ratio=0.0)))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=2, num_workers=1,
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(data_root=data_root))
test_dataloader = val_dataloader
randomness = dict(seed=0)
train_cfg = dict(max_iters={ITERS}, val_interval=100)
param_scheduler = [dict(type='PolyLR', end={ITERS}, by_epoch=False)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=2))
""")
    return str(path)


def _weights(work_dir):
    state = torch.load(
        osp.join(work_dir, f'iter_{ITERS}.pth'),
        weights_only=True)['state_dict']
    return {k: v for k, v in state.items() if v.is_floating_point()}


def test_killed_and_resumed_run_matches_an_uninterrupted_one(
        trained, tmp_path):
    # Crops as large as the images: RandomCrop draws nothing.
    cfg = _config(tmp_path / 'cfg.py', trained['cfg'], trained['data_root'])
    repo, whole, killed = trained['repo_root'], tmp_path / 'a', tmp_path / 'b'
    split = '--cfg-options', 'model.backbone.split_points=(5,)'
    train = [sys.executable, 'tools/train.py', cfg, '--work-dir']
    subprocess.run(
        train + [str(whole), *split],
        cwd=repo,
        check=True,
        capture_output=True)
    proc = subprocess.Popen(
        train + [str(killed), *split],
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (killed / 'iter_2.pth').exists() and proc.poll() is None:
        assert time.time() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # during iteration 3
    proc.wait()
    assert not (killed / f'iter_{ITERS}.pth').exists()
    subprocess.run(
        train + [str(killed), '--resume', *split],
        cwd=repo,
        check=True,
        capture_output=True)
    a, b = _weights(whole), _weights(killed)
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=1e-5, atol=1e-6,
                                   msg=key)
