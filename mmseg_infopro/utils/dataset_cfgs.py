"""The dataset configs inside a dataset config: wrappers (``RepeatDataset``,
``ConcatDataset``, ``MultiImageMixDataset``, ...) hold theirs under
``dataset`` or ``datasets``."""
from typing import Iterator, List, Mapping, Tuple

__all__ = ['iter_dataset_cfgs', 'leaf_dataset_cfgs']


def iter_dataset_cfgs(cfg: Mapping,
                      name: str = 'dataset'
                      ) -> Iterator[Tuple[str, Mapping]]:  # yapf: disable
    """``cfg`` and every dataset config inside it, a wrapper before what it
    wraps, in order, each with where it sits (``dataset.datasets[1]``), as
    the configs hold them (changing one changes the config)."""
    yield name, cfg
    if isinstance(cfg.get('dataset'), Mapping):
        yield from iter_dataset_cfgs(cfg['dataset'], f'{name}.dataset')
    for i, sub in enumerate(cfg.get('datasets') or []):
        if isinstance(sub, Mapping):
            yield from iter_dataset_cfgs(sub, f'{name}.datasets[{i}]')


def leaf_dataset_cfgs(cfg: Mapping,
                      name: str = 'dataset') -> List[Tuple[str, Mapping]]:
    """The datasets that wrap no other (the ones that read files), with
    where they sit."""
    return [(n, d) for n, d in iter_dataset_cfgs(cfg, name)
            if not isinstance(d.get('dataset'), Mapping)
            and not d.get('datasets')]
