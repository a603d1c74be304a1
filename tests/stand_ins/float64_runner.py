"""A CPU stand-in for "the Runner moves the model elsewhere" (not a test).

mmengine's Runner moves the model to the GPU in its constructor
(``wrap_model`` → ``model.to(device)``), before anything of mmseg_infopro
builds the local heads of an automatic split or a checkpoint. On the CPU in
float32 a tensor made in the wrong place goes unnoticed; in float64 it meets
a float64 model and fails as it would on a GPU. ``Float64Runner`` casts the
model to float64 exactly there, then does what the Runner does.

Configs use it with::

    custom_imports = dict(imports=['mmseg_infopro', 'float64_runner'])
    runner_type = 'Float64Runner'

and this folder on ``PYTHONPATH`` (tools/train.py and tools/test.py build
``runner_type`` through mmseg's RUNNERS registry).
"""
import torch
from mmengine.runner import Runner
from mmseg.registry import RUNNERS


@RUNNERS.register_module()
class Float64Runner(Runner):
    """mmengine's Runner with the model cast to float64 where it is moved."""

    def wrap_model(self, model_wrapper_cfg, model):
        self.logger.info('Float64Runner: the model is cast to float64 '
                         'where the Runner moves it.')
        return super().wrap_model(model_wrapper_cfg,
                                  model.to(dtype=torch.float64))
