"""Rewriting the configs on the fragments of configs/_base_/infopro/ changed
nothing they build: every config resolves to the dict it resolved to before
(resolved_configs.json, saved once from the configs as they were, b0522ac,
and a config added later as it was when added), but for the fragments'
variables, which nothing reads (mmengine keeps every variable of a base in
the resolved config)."""
import json
import os.path as osp

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
with open(osp.join(osp.dirname(__file__), 'resolved_configs.json')) as f:
    BEFORE = json.load(f)
#: Variables that configs/_base_/infopro/*.py define for configs to take
#: (``_base_.infopro_local_head``); mmengine keeps them, the Runner and the
#: model never look them up.
FRAGMENT_VARIABLES = {
    'infopro_local_head', 'infopro_k2', 'infopro_proxy_model',
    'infopro_lite0_k2', 'infopro_lite0_optim'
}


def _without_default_scope(value, scope: str):
    """``value`` without the ``_scope_`` keys that name the config's default
    scope: mmengine adds them to what an ``mmseg::`` base defines, and the
    registry builds such a dict in the default scope either way."""
    if isinstance(value, dict):
        return {
            k: _without_default_scope(v, scope)
            for k, v in value.items() if not (k == '_scope_' and v == scope)
        }
    if isinstance(value, list):
        return [_without_default_scope(v, scope) for v in value]
    return value


@pytest.mark.parametrize('path', sorted(BEFORE))
def test_config_resolves_as_before(path):
    now = json.loads(
        json.dumps(Config.fromfile(osp.join(REPO, path)).to_dict()))
    now = _without_default_scope(now, now['default_scope'])
    assert set(now) - set(BEFORE[path]) <= FRAGMENT_VARIABLES
    for key in FRAGMENT_VARIABLES:
        now.pop(key, None)
    assert now == _without_default_scope(BEFORE[path], now['default_scope'])
