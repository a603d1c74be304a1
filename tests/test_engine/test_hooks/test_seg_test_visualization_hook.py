import pytest
from mmseg.registry import HOOKS

import mmseg_infopro  # noqa: F401


@pytest.mark.parametrize('interval', [0, -1, 1.5])
def test_interval_must_be_a_positive_integer(interval):
    with pytest.raises(ValueError, match='interval must be an integer >= 1'):
        HOOKS.build(
            dict(type='SegTestVisualizationHook', draw=True,
                 interval=interval))
