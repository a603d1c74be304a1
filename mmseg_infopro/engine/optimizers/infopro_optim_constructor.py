"""Build the optimizer of an InfoPro model after its split is decided."""
from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapper
from mmseg.registry import OPTIM_WRAPPER_CONSTRUCTORS
from torch import nn

__all__ = ['InfoProOptimWrapperConstructor']


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class InfoProOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's default constructor, run after the model's automatic
    split is measured (``model.ensure_split()``), so that the local heads,
    built for that split, are among the optimized parameters.

    The shipped InfoPro configs set it
    (``optim_wrapper=dict(constructor='InfoProOptimWrapperConstructor')``),
    so a Runner built from them trains the heads; it takes the arguments of
    :class:`mmengine.optim.DefaultOptimWrapperConstructor`.
    """

    def __call__(self, model: nn.Module) -> OptimWrapper:
        inner = model.module if is_model_wrapper(model) else model
        if hasattr(inner, 'ensure_split'):
            inner.ensure_split()
        return super().__call__(model)
