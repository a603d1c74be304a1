"""Do a network's BatchNorm statistics fit the data it sees?

A trained BatchNorm layer remembers the mean and variance of its input
(``running_mean``, ``running_var``). Run in eval mode on natural images, a
correctly loaded network shows inputs whose per-channel statistics are close
to those; a tensor loaded into the wrong place (a swapped conv, a BN's
statistics on another layer, a transposed kernel) changes what every later
layer sees, and their statistics drift far apart. That makes the check a
test of a weight conversion on real data, without labels.
"""
from dataclasses import dataclass
from typing import Iterable, List

import torch
import torch.nn as nn
from torch import Tensor

__all__ = ['BNAgreement', 'bn_statistics_agreement']


@dataclass
class BNAgreement:
    """How well one BatchNorm layer's running statistics fit its input.

    Attributes:
        name (str): The layer's name in the model.
        mean_z (float): Median over channels of ``|batch mean - running
            mean| / sqrt(running var + eps)``: how many running standard
            deviations the observed mean is off.
        log_var_ratio (float): Median over channels of ``|log(batch var /
            running var)|``; 0 when the spreads agree, log 2 = 0.69 when
            they differ by a factor 2.
    """
    name: str
    mean_z: float
    log_var_ratio: float

    def fits(self, max_mean_z: float, max_log_var_ratio: float) -> bool:
        """Whether both distances are within the given bounds."""
        return (self.mean_z <= max_mean_z
                and self.log_var_ratio <= max_log_var_ratio)


@torch.no_grad()
def bn_statistics_agreement(model: nn.Module,
                            batches: Iterable[Tensor]) -> List[BNAgreement]:
    """Compare every BatchNorm layer's running statistics with the
    statistics of its input over ``batches``.

    The model runs in eval mode (each layer normalises with its running
    statistics, as at inference, so a wrong layer shows in the ones after
    it) and is left in the mode it had.

    Args:
        model (nn.Module): A network with ``nn.BatchNorm2d`` layers (timm's
            ``BatchNormAct2d`` is one).
        batches (Iterable[Tensor]): Normalised NCHW images, as the model
            expects them.

    Returns:
        list[BNAgreement]: One per BatchNorm layer, in the model's order.

    Raises:
        ValueError: If the model has no BatchNorm layer or ``batches`` is
            empty.
    """
    layers = [(n, m) for n, m in model.named_modules()
              if isinstance(m, nn.BatchNorm2d)]
    if not layers:
        raise ValueError(f'{type(model).__name__} has no BatchNorm2d layer.')
    sums = {n: [0.0, 0.0, 0] for n, _ in layers}  # sum x, sum x^2, count

    def hook(name):

        def record(_, inputs):
            x = inputs[0].double().transpose(0, 1).flatten(1)
            acc = sums[name]
            acc[0] = acc[0] + x.sum(1)
            acc[1] = acc[1] + (x * x).sum(1)
            acc[2] += x.shape[1]

        return record

    handles = [m.register_forward_pre_hook(hook(n)) for n, m in layers]
    was_training = model.training
    model.eval()
    try:
        seen = 0
        for images in batches:
            model(images)
            seen += 1
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()
    if not seen:
        raise ValueError('batches is empty: give at least one batch of '
                         'images.')
    results = []
    for name, layer in layers:
        total, squares, count = sums[name]
        mean = total / count
        var = (squares / count - mean * mean).clamp_min(1e-12)
        running_mean = layer.running_mean.double()
        running_var = layer.running_var.double()
        z = (mean - running_mean).abs() / (running_var + layer.eps).sqrt()
        ratio = (var.log() - (running_var + layer.eps).log()).abs()
        results.append(
            BNAgreement(name, float(z.median()), float(ratio.median())))
    return results
