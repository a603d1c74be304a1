"""mmseg's IoUMetric, with every class's IoU among the returned metrics."""
from typing import Dict

import numpy as np
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS

__all__ = ['PerClassIoUMetric']


@METRICS.register_module()
class PerClassIoUMetric(IoUMetric):
    """:class:`mmseg.evaluation.IoUMetric` that also returns ``IoU.<class>``
    (percent, NaN for a class absent from both labels and predictions).

    mmseg prints the per-class table to the log only; returning the values
    puts them in the runner's ``scalars.json`` next to ``mIoU``, where
    ``tools/analysis/accuracy_study.py`` collects them. Same arguments as
    ``IoUMetric``.
    """

    def compute_metrics(self, results: list) -> Dict[str, float]:
        metrics = super().compute_metrics(results)
        if self.format_only:
            return metrics
        intersect = sum(r[0] for r in results).numpy().astype(np.float64)
        union = sum(r[1] for r in results).numpy().astype(np.float64)
        with np.errstate(invalid='ignore', divide='ignore'):
            iou = intersect / union * 100
        for name, value in zip(self.dataset_meta['classes'], iou):
            metrics[f'IoU.{name}'] = float(np.round(value, 2))
        return metrics
