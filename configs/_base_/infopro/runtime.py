# What every InfoPro config adds to an mmseg config's runtime, once:
# - the plugin's modules (registered in mmseg's registries on import);
# - checkpoints that stay loadable with torch's weights_only=True
#   (torch >= 2.6);
# - multi-process training that all-reduces every local module's gradients
#   once per iteration (torch's DDP assumes one backward per forward).
# Put it next to an mmseg config in `_base_`. The optimizer constructor cannot
# live here (mmseg's schedules define optim_wrapper, and mmengine refuses a key
# that two bases define): an InfoPro config sets
#   optim_wrapper = dict(constructor='InfoProOptimWrapperConstructor')
# which measures the automatic split (and builds the local heads) before the
# optimizer collects the parameters.
custom_imports = dict(imports=['mmseg_infopro'], allow_failed_imports=False)
custom_hooks = [dict(type='WeightsOnlyCheckpointHook')]
model_wrapper_cfg = dict(type='mmseg.InfoProDistributedDataParallel')
