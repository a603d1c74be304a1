"""Worker for test_infopro_ddp.py (not a test module).

Trains a tiny InfoPro model (GroupNorm, no dropout: nothing depends on the
batch split) for 3 iterations on a fixed global batch of 4 images, split over
the ranks when launched by torchrun, and saves the final weights (and, in
one process, the initial ones). In the order of mmengine's Runner: the model
is moved (here: cast to float64, the CPU stand-in for a GPU), wrapped, its
optimizer built by InfoProOptimWrapperConstructor (which measures the
automatic split), then trained. It has a parameter that no loss uses.

    python ddp_worker.py OUT_DIR            # one process, batch 4
    torchrun --nproc_per_node=2 ddp_worker.py OUT_DIR   # 2 x batch 2
"""
import os
import sys

import torch
import torch.distributed as dist
import torch.nn as nn
from mmengine.config import ConfigDict
from mmengine.optim import build_optim_wrapper
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from mmseg.utils import register_all_modules

import mmseg_infopro  # noqa: F401
from mmseg_infopro.engine import InfoProDistributedDataParallel

GN = dict(type='GN', num_groups=4, requires_grad=True)


def model_cfg():
    return ConfigDict(
        type='InfoProEncoderDecoder',
        data_preprocessor=dict(
            type='SegDataPreProcessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            size=(32, 64)),
        backbone=dict(
            type='InfoProResNetV1c',
            depth=18,
            num_local_modules=3,
            split_points=None,
            dilations=(1, 1, 2, 4),
            strides=(1, 2, 1, 1),
            norm_cfg=GN,
            contract_dilation=True),
        decode_head=dict(
            type='ASPPHead',
            in_channels=512,
            in_index=3,
            channels=16,
            dilations=(1, 12, 24, 36),
            dropout_ratio=0,
            num_classes=19,
            norm_cfg=GN),
        auxiliary_head=dict(
            type='FCNHead',
            in_channels=256,
            in_index=2,
            channels=16,
            num_convs=1,
            concat_input=False,
            dropout_ratio=0,
            num_classes=19,
            norm_cfg=GN,
            loss_decode=dict(type='CrossEntropyLoss', loss_weight=0.4)),
        local_head=dict(
            type='InfoProHead',
            num_classes=19,
            loss_recon_weight=(1.5, 0.5),
            norm_cfg=GN,
            task_head=dict(channels=16, dropout_ratio=0),
            recon_channels=(16, 8, 4)),
        test_cfg=dict(mode='whole'))


def global_batch(iteration):
    gen = torch.Generator().manual_seed(iteration)
    inputs = torch.randint(
        0, 256, (4, 3, 32, 64), generator=gen, dtype=torch.uint8)
    labels = torch.randint(0, 19, (4, 1, 32, 64), generator=gen)
    return inputs, labels


def main():
    out_dir = sys.argv[1]
    distributed = 'RANK' in os.environ
    rank, world = 0, 1
    if distributed:
        dist.init_process_group('gloo')
        rank, world = dist.get_rank(), dist.get_world_size()
    register_all_modules()
    torch.manual_seed(rank)  # different init per rank: the wrapper syncs it
    model = MODELS.build(model_cfg()).train()
    # Unused: one process leaves it alone (no gradient, so no weight decay
    # or momentum); data parallelism must too.
    model.backbone.register_parameter('unused', nn.Parameter(torch.ones(4)))
    model = model.double()
    if distributed:
        model = InfoProDistributedDataParallel(model)
    optim = build_optim_wrapper(
        model,
        dict(
            constructor='InfoProOptimWrapperConstructor',
            optimizer=dict(
                type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4)))
    if not distributed:  # rank 0's initial weights, which every rank gets
        torch.save(model.state_dict(), os.path.join(out_dir, 'init.pt'))
    per_rank = 4 // world
    for it in range(3):
        inputs, labels = global_batch(it)
        part = slice(rank * per_rank, (rank + 1) * per_rank)
        data = dict(
            inputs=list(inputs[part]),
            data_samples=[
                SegDataSample(
                    gt_sem_seg=PixelData(data=lab),
                    metainfo=dict(
                        img_shape=(32, 64),
                        ori_shape=(32, 64),
                        pad_shape=(32, 64))) for lab in labels[part]
            ])
        model.train_step(data, optim)
    module = model.module if distributed else model
    torch.save(module.state_dict(), os.path.join(out_dir, f'rank{rank}.pt'))
    if distributed:
        dist.destroy_process_group()


if __name__ == '__main__':
    main()
