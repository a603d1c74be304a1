"""mmseg-infopro: InfoPro locally supervised training for mmsegmentation.

Importing the package registers its models, datasets and metrics in mmseg's
registries and makes checkpoints written by mmengine's runner loadable with
torch's ``weights_only`` protection on.
"""
from . import datasets, engine, evaluation, models  # noqa: F401  (registry)
from .version import __version__

__all__ = ['__version__', 'datasets', 'engine', 'evaluation', 'models']
