"""mmseg-infopro: InfoPro locally supervised training for mmsegmentation.

Importing the package registers its models in mmseg's registries and makes
checkpoints written by mmengine's runner loadable with torch's
``weights_only`` protection on.
"""
from . import datasets, engine, models  # noqa: F401  (registration)
from .version import __version__

__all__ = ['__version__', 'datasets', 'engine', 'models']
