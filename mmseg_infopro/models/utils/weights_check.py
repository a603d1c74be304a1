"""Which weights of a model a state dict does not provide."""
from typing import List, Mapping, Sequence

from torch import Tensor

__all__ = ['weights_not_loaded']


def weights_not_loaded(model_state: Mapping[str, Tensor],
                       checkpoint_state: Mapping[str, Tensor],
                       prefixes: Sequence[str]) -> List[str]:
    """The model's weights under ``prefixes`` that the checkpoint lacks or
    holds in another shape, each with the reason.

    Args:
        model_state (Mapping[str, Tensor]): The model's state dict.
        checkpoint_state (Mapping[str, Tensor]): The checkpoint's.
        prefixes (Sequence[str]): Parts that must load, e.g.
            ``('backbone.', 'decode_head.')``.

    Returns:
        list[str]: ``'<key>: missing'`` or ``'<key>: checkpoint <shape>,
        model <shape>'``, in the model's order.
    """
    problems = []
    for key, value in model_state.items():
        if not key.startswith(tuple(prefixes)) or key.endswith(
                '_extra_state'):
            continue
        if key not in checkpoint_state:
            problems.append(f'{key}: missing')
        elif checkpoint_state[key].shape != value.shape:
            problems.append(f'{key}: checkpoint '
                            f'{tuple(checkpoint_state[key].shape)}, model '
                            f'{tuple(value.shape)}')
    return problems
