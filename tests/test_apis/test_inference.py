"""mmseg's inference API on this project's configs and checkpoints."""
import glob
import os.path as osp

import numpy as np
import pytest
import torch


def val_image(trained):
    return sorted(
        glob.glob(
            osp.join(trained['data_root'], 'leftImg8bit', 'val', '*',
                     '*.png')))[0]


def test_init_model_inference_model_show_result(trained, tmp_path,
                                                monkeypatch):
    from mmseg.apis import inference_model, init_model, show_result_pyplot

    from mmseg_infopro.models import InfoProEncoderDecoder
    monkeypatch.setattr(InfoProEncoderDecoder, 'split_planner',
                        lambda *a: pytest.fail('inference measured a split'))
    model = init_model(trained['cfg'], trained['ckpt'], device='cpu')
    assert type(model).__name__ == 'InfoProEncoderDecoder'
    assert model.dataset_meta['classes'][0] == 'road'
    result = inference_model(model, val_image(trained))
    assert result.pred_sem_seg.data.shape == (1, 64, 128)
    out = tmp_path / 'overlay.png'
    drawn = show_result_pyplot(
        model, val_image(trained), result, show=False, out_file=str(out))
    assert out.is_file() and drawn.shape == (64, 128, 3)


def test_mmseg_inferencer_with_config_path_and_weights(
        trained, tmp_path, monkeypatch):
    from mmseg.apis import MMSegInferencer

    from mmseg_infopro.models import InfoProEncoderDecoder
    monkeypatch.setattr(InfoProEncoderDecoder, 'split_planner',
                        lambda *a: pytest.fail('inference measured a split'))
    inferencer = MMSegInferencer(
        model=trained['cfg'], weights=trained['ckpt'], device='cpu')
    out = inferencer(val_image(trained), out_dir=str(tmp_path))
    assert out['predictions'].shape == (64, 128)
    assert glob.glob(str(tmp_path / 'vis' / '*.png'))


def test_image_demo_writes_an_overlay(trained, tmp_path, run_tool):
    """In this process (tests/test_tools/test_gpu_check.py runs the
    command)."""
    out = tmp_path / 'demo.png'
    proc = run_tool('demo/image_demo.py', val_image(trained), trained['cfg'],
                    trained['ckpt'], '--out-file', str(out))
    assert out.is_file(), proc.stdout
    bad = run_tool(
        'demo/image_demo.py',
        str(tmp_path / 'missing.png'),
        trained['cfg'],
        trained['ckpt'],
        check=False)
    assert bad.returncode != 0 and 'missing.png' in bad.stderr
    assert 'Traceback' not in bad.stderr
    # The overlay never replaces the image it is drawn from.
    img = tmp_path / 'img.png'
    img.write_bytes(open(val_image(trained), 'rb').read())
    over = run_tool(
        'demo/image_demo.py',
        str(img),
        trained['cfg'],
        trained['ckpt'],
        '--out-file',
        str(img),
        check=False)
    assert over.returncode == 1 and 'is the input' in over.stderr
    assert img.read_bytes() == open(val_image(trained), 'rb').read()


def test_image_demo_mistakes_are_one_error_line(trained, tmp_path,
                                                run_tool):
    junk = tmp_path / 'junk.png'
    junk.write_bytes(b'not an image nor a checkpoint')
    img, cfg, ckpt = val_image(trained), trained['cfg'], trained['ckpt']
    broken = tmp_path / 'broken.py'
    broken.write_text(f"_base_ = '{cfg}'\nmodel = dict(backbone=dict("
                      f"depth=7))\n")
    for args, message in (
        ([img, cfg, str(junk)], 'is not a checkpoint that loads'),
        ([str(junk), cfg, ckpt], 'is not an image that decodes'),
        ([img, str(broken), ckpt], 'invalid depth 7'),
        ([img, cfg, ckpt, '--device', 'cuda:99'], 'CUDA device(s)'),
    ):
        proc = run_tool('demo/image_demo.py', *args, '--out-file',
                        str(tmp_path / 'out.png'), check=False)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 1 and len(lines) == 1, proc.stderr[-2000:]
        assert lines[0].startswith('error: ') and message in lines[0]


def test_slide_inference_through_the_api(trained):
    from mmseg.apis import inference_model, init_model
    model = init_model(trained['cfg'], trained['ckpt'], device='cpu')
    whole = inference_model(model, val_image(trained)).seg_logits.data
    model.cfg.model.test_cfg = dict(
        mode='slide', crop_size=(64, 64), stride=(32, 32))
    model.test_cfg = model.cfg.model.test_cfg
    slide = inference_model(model, val_image(trained)).seg_logits.data
    assert slide.shape == whole.shape
    assert torch.isfinite(slide).all()
    assert not np.allclose(slide.numpy(), whole.numpy())
