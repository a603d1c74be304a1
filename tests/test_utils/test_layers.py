"""The package layers one way (docs/contributing.md): utils, then models,
datasets and evaluation, then engine (what mmengine builds from a registry)
— the plugin import — and above them the tools' side: preflight, analysis,
memory_budget. Nothing imports up, no package module is imported inside a
function to dodge a circle, and the plugin import (each config's
``custom_imports``) loads none of the tools' side."""
import ast
import glob
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PACKAGE = osp.join(REPO, 'mmseg_infopro')
#: Each subpackage with its layer: a module may import its own layer's and
#: lower layers' modules only.
LAYERS = {
    'utils': 0,
    'models': 1,
    'datasets': 1,
    'evaluation': 1,
    'engine': 2,
    'preflight': 3,
    'analysis': 4,
    'memory_budget': 5,
}
PLUGIN = {'utils', 'models', 'datasets', 'evaluation', 'engine', 'version'}


def _subpackage(module: str) -> str:
    return module.split('.')[1] if '.' in module else ''


def _imports(path: str):
    """(imported module, line, at module level) of every import of a
    package module in ``path``, relative imports resolved."""
    rel = osp.relpath(path, REPO)[:-len('.py')].replace(osp.sep, '.')
    package = rel[:-len('.__init__')] if rel.endswith('__init__') else \
        rel.rsplit('.', 1)[0]
    tree = ast.parse(open(path).read())
    top = set(map(id, tree.body))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split('.')
                base = parts[:len(parts) - node.level + 1]
                name = '.'.join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ''
            names = [name]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        for name in names:
            if name == 'mmseg_infopro' or name.startswith('mmseg_infopro.'):
                yield name, node.lineno, id(node) in top


def test_modules_import_down_and_at_module_level():
    problems = []
    for path in glob.glob(osp.join(PACKAGE, '**', '*.py'), recursive=True):
        rel = osp.relpath(path, REPO)
        own = _subpackage(rel[:-3].replace(osp.sep, '.'))
        for name, line, at_top in _imports(path):
            other = _subpackage(name)
            if not at_top:
                problems.append(f'{rel}:{line} imports {name} in a function')
            elif own in LAYERS and other in LAYERS and \
                    LAYERS[other] > LAYERS[own]:
                problems.append(f'{rel}:{line} ({own}) imports up: {name}')
    assert not problems, '\n'.join(problems)
    # Every subpackage has its layer.
    found = {
        osp.basename(osp.dirname(p))
        for p in glob.glob(osp.join(PACKAGE, '*', '__init__.py'))
    }
    assert found == set(LAYERS)


def _python(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, '-W', 'ignore', '-c', code],
                            cwd=REPO,
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE,
                            text=True)


@pytest.mark.slow  # a process per tool-side subpackage
def test_the_plugin_import_is_light_and_every_subpackage_imports_alone():
    """The plugin's subpackages are imported by the package itself, in the
    order of its ``__init__``, whichever is named first; each tool-side one
    imports alone (the static test above rules out circles in any order)."""
    plugin = _python(
        'import sys, mmseg_infopro; print(sorted({m.split(".")[1] for m in '
        'sys.modules if m.startswith("mmseg_infopro.")}))')
    alone = {
        name: _python(f'import mmseg_infopro.{name}')
        for name in LAYERS if name not in PLUGIN
    }
    out, err = plugin.communicate(timeout=300)
    assert plugin.returncode == 0, err[-3000:]
    loaded = set(ast.literal_eval(out.strip().splitlines()[-1]))
    # No budget search, no benchmark (its trial processes), no tool steps.
    assert loaded == PLUGIN, loaded - PLUGIN
    for name, proc in alone.items():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, f'mmseg_infopro.{name}: {err[-3000:]}'
