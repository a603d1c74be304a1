"""tools/model_converters/infopro2mmseg.py: deploy without the plugin (one
run as a command, the others in this process)."""
import glob
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmseg.apis import inference_model, init_model
from mmseg.registry import MODELS


def test_export_loads_strictly_into_plain_mmseg(trained, tmp_path, run_python):
    dst, cfg_out = tmp_path / 'plain.pth', tmp_path / 'plain_cfg.py'
    run_python(trained['repo_root'],
               'tools/model_converters/infopro2mmseg.py', trained['ckpt'],
               str(dst), '--config', trained['cfg'], '--out-config',
               str(cfg_out))
    ckpt = torch.load(dst, weights_only=True)
    assert not any(k.startswith('local_heads.') for k in ckpt['state_dict'])
    assert set(ckpt) == {'meta', 'state_dict'}

    cfg = Config.fromfile(str(cfg_out))
    assert 'custom_imports' not in cfg
    assert cfg.model.type == 'EncoderDecoder'
    assert cfg.model.backbone.type == 'ResNetV1c'
    plain = MODELS.build(cfg.model)
    load_checkpoint(plain, str(dst), strict=True)  # nothing missing or extra

    img = sorted(
        glob.glob(
            osp.join(trained['data_root'], 'leftImg8bit', 'val', '*',
                     '*.png')))[0]
    ours = init_model(trained['cfg'], trained['ckpt'], device='cpu')
    theirs = init_model(str(cfg_out), str(dst), device='cpu')
    a = inference_model(ours, img)
    b = inference_model(theirs, img)
    torch.testing.assert_close(a.seg_logits.data, b.seg_logits.data)
    assert torch.equal(a.pred_sem_seg.data, b.pred_sem_seg.data)


def test_export_refuses_to_overwrite_and_can_drop_aux(trained, tmp_path,
                                                      run_tool):
    dst = tmp_path / 'plain.pth'
    dst.write_bytes(b'keep me')
    proc = run_tool(
        'tools/model_converters/infopro2mmseg.py',
        trained['ckpt'],
        str(dst),
        check=False)
    assert proc.returncode != 0 and '--overwrite' in proc.stderr
    assert dst.read_bytes() == b'keep me'
    run_tool('tools/model_converters/infopro2mmseg.py', trained['ckpt'],
             str(dst), '--drop-aux', '--overwrite')
    keys = torch.load(dst, weights_only=True)['state_dict']
    assert not any(k.startswith('auxiliary_head.') for k in keys)
    assert any(k.startswith('decode_head.') for k in keys)


def test_export_of_a_plain_checkpoint_and_to_a_missing_folder(
        trained, tmp_path, run_tool):
    plain = tmp_path / 'plain.pth'
    run_tool('tools/model_converters/infopro2mmseg.py', trained['ckpt'],
             str(plain))
    again = run_tool('tools/model_converters/infopro2mmseg.py', str(plain),
                     str(tmp_path / 'again.pth'))
    assert 'nothing to drop: no local heads' in again.stdout
    proc = run_tool(
        'tools/model_converters/infopro2mmseg.py',
        trained['ckpt'],
        str(tmp_path / 'missing' / 'out.pth'),
        check=False)
    assert proc.returncode != 0 and 'does not exist' in proc.stderr
    assert 'Traceback' not in proc.stderr


def test_export_never_writes_over_its_inputs(trained, tmp_path, run_tool):
    """Reading a checkpoint memory-maps it: writing the same file would
    truncate what is being read (a bus error and a broken checkpoint)."""
    import shutil
    src, cfg = tmp_path / 'src.pth', tmp_path / 'cfg.py'
    shutil.copy(trained['ckpt'], src)
    shutil.copy(trained['cfg'], cfg)
    before = src.read_bytes(), cfg.read_bytes()
    link = tmp_path / 'link.pth'
    link.symlink_to(src)
    for dst, more in ((src, []), (link, []),
                      (tmp_path / 'plain.pth',
                       ['--config', str(cfg), '--out-config',
                        str(cfg)])):
        proc = run_tool(
            'tools/model_converters/infopro2mmseg.py',
            str(src),
            str(dst),
            '--overwrite',
            *more,
            check=False)
        assert proc.returncode == 1 and 'is the input' in proc.stderr
        assert 'Traceback' not in proc.stderr
    assert (src.read_bytes(), cfg.read_bytes()) == before
    assert not (tmp_path / 'plain.pth').exists()


def test_a_config_that_does_not_load_stops_the_export(trained, tmp_path,
                                                      run_tool):
    """Before, --config was read only after the checkpoint was written,
    and not at all without --out-config (exit 0)."""
    dst = tmp_path / 'plain.pth'
    for more in ([], ['--out-config', str(tmp_path / 'plain.py')]):
        proc = run_tool('tools/model_converters/infopro2mmseg.py',
                        trained['ckpt'], str(dst), '--config',
                        str(tmp_path / 'nope.py'), *more, check=False)
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 1 and len(lines) == 1, proc.stderr[-2000:]
        assert lines[0].startswith('error: config ') and 'nope.py' in lines[0]
    assert not dst.exists()
