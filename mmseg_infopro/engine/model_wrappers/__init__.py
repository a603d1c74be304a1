from .infopro_ddp import InfoProDistributedDataParallel

__all__ = ['InfoProDistributedDataParallel']
