"""A training killed with SIGKILL and resumed ends with the weights of an
uninterrupted run of the same seed.

On a pipeline without random augmentation and a model without dropout,
mmengine restores everything the run depends on: weights, SGD momentum, the
iteration, the LR schedule, and the data order (the InfiniteSampler is
seeded; on resume the train loop advances the dataloader past the
iterations already trained). What it does not restore is the global RNG
state: with dropout (or random augmentation in workers) the resumed run
draws other masks, so the ``trained`` run (tests/conftest.py), the
uninterrupted reference here, has neither; that is the reason the two runs
could otherwise differ.
"""
import os.path as osp
import signal
import subprocess
import sys
import time

import torch


def _weights(work_dir, iters):
    state = torch.load(
        osp.join(work_dir, f'iter_{iters}.pth'),
        weights_only=True)['state_dict']
    return {k: v for k, v in state.items() if v.is_floating_point()}


def test_killed_and_resumed_run_matches_an_uninterrupted_one(
        trained, tmp_path, run_tool):
    killed = tmp_path / 'killed'
    # The same command as the trained run's: 4 iterations, checkpoints at
    # iterations 2 and 4.
    train = [
        'tools/train.py', trained['cfg'], '--work-dir',
        str(killed), '--cfg-options', trained['split_option']
    ]
    proc = subprocess.Popen([sys.executable, *train],
                            cwd=trained['repo_root'],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    # mmengine names a checkpoint in last_checkpoint once it is written.
    last = killed / 'last_checkpoint'
    deadline = time.time() + 300
    while not (last.exists() and last.read_text().endswith('iter_2.pth')):
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)  # during iteration 3
    proc.wait()
    assert not (killed / 'iter_4.pth').exists()
    resumed = run_tool(*train, '--resume')
    log = resumed.stdout + resumed.stderr
    assert 'resumed epoch: 0, iter: 2' in log
    assert 'Iter(train) [3/4]' in log and 'Iter(train) [1/4]' not in log
    a, b = _weights(trained['work_dir'], 4), _weights(killed, 4)
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(b[key], a[key], rtol=1e-5, atol=1e-6,
                                   msg=key)
