from .infopro_optim_constructor import InfoProOptimWrapperConstructor

__all__ = ['InfoProOptimWrapperConstructor']
