"""Export an InfoPro checkpoint (and config) to plain mmseg.

The local heads only exist for training; dropping them leaves exactly the
state dict of mmseg's DeepLab-V3 with the same backbone, which then loads
with ``strict=True`` and predicts the same, so deployment needs no plugin.

Examples:
    python tools/model_converters/infopro2mmseg.py SRC.pth DST.pth
    python tools/model_converters/infopro2mmseg.py SRC.pth DST.pth \
        --config configs/deeplabv3_infopro_cityscapes.py \
        --out-config plain_cfg.py
"""
import argparse
import os.path as osp
import sys

import torch
from mmengine.config import ConfigDict

from mmseg_infopro.models.utils import to_plain_model_cfg, to_plain_state_dict
from mmseg_infopro.utils import (CheckpointError, ConfigError, OutputError,
                                 check_output_file, load_checkpoint_file,
                                 load_config, replaced_atomically)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Export an InfoPro checkpoint to plain mmseg')
    parser.add_argument('src', help='InfoPro checkpoint')
    parser.add_argument('dst', help='where to write the plain checkpoint')
    parser.add_argument('--config', help='the InfoPro config of SRC')
    parser.add_argument(
        '--out-config',
        help='write the matching plain mmseg config here '
        '(needs --config)')
    parser.add_argument(
        '--drop-aux',
        action='store_true',
        help='also drop the auxiliary head (unused at '
        'inference; the written config then has none)')
    parser.add_argument(
        '--overwrite',
        action='store_true',
        help='replace existing output files')
    args = parser.parse_args()
    if args.out_config and not args.config:
        parser.error('--out-config needs --config')
    return args


def main() -> None:
    args = parse_args()
    try:
        for out in filter(None, (args.dst, args.out_config)):
            check_output_file(out, (args.src, args.config), args.overwrite)
        if args.out_config and osp.realpath(args.dst) == osp.realpath(
                args.out_config):
            raise OutputError(f'{args.dst} is both the checkpoint and the '
                              f'config to write; give two files.')
    except OutputError as e:
        sys.exit(f'error: {e}')
    try:
        # Read before anything is written: a config that does not load
        # stops the export, not only the config's.
        cfg = load_config(args.config) if args.config else None
        ckpt = load_checkpoint_file(args.src)
    except (ConfigError, CheckpointError) as e:
        sys.exit(f'error: {e}')
    state_dict = ckpt.get('state_dict', ckpt)
    plain = to_plain_state_dict(state_dict, args.drop_aux)
    dropped = sorted({k.split('.')[0] for k in state_dict} - {
        k.split('.')[0]
        for k in plain
    })
    meta = {
        k: v
        for k, v in ckpt.get('meta', {}).items()
        if k in ('dataset_meta', 'mmengine_version', 'iter', 'epoch')
    }
    with replaced_atomically(args.dst) as tmp:
        torch.save(dict(meta=meta, state_dict=plain), tmp)
    print(f'wrote {args.dst}: kept {len(plain)} of {len(state_dict)} '
          f'tensors (' + (f'dropped {" and ".join(dropped)}' if dropped else
                          'nothing to drop: no local heads') + ')')
    if args.out_config:
        cfg.model = ConfigDict(to_plain_model_cfg(cfg.model, args.drop_aux))
        cfg.pop('custom_imports', None)
        hooks = [
            h for h in cfg.get('custom_hooks', [])
            if h.get('type') != 'WeightsOnlyCheckpointHook'
        ]
        cfg.custom_hooks = hooks
        with replaced_atomically(args.out_config) as tmp:
            cfg.dump(tmp)
        print(f'wrote {args.out_config} (plain mmseg, no plugin needed)')


if __name__ == '__main__':
    main()
