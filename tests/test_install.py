"""pyproject.toml stays true to the tree: every package is listed, every command's entry point exists."""
import importlib

import pytest

from conftest import ROOT

tomllib = pytest.importorskip('tomllib', reason='tomllib is in the standard library from Python 3.11')


def test_every_package_and_command_is_installed():
    project = tomllib.loads((ROOT / 'pyproject.toml').read_text())
    listed = set(project['tool']['setuptools']['packages'])
    found = {'.'.join(p.parent.relative_to(ROOT).parts) for p in (ROOT / 'paddlevideo').rglob('__init__.py')}
    assert listed == found | {'paddlevideo_tools'}
    assert project['tool']['setuptools']['package-dir'] == {'paddlevideo_tools': 'tools'}
    scripts = project['project']['scripts']
    tools = {p.stem for p in (ROOT / 'tools').glob('*.py')} - {'__init__', 'make_synthetic_data'}
    assert {target.split(':')[0].split('.')[1] for target in scripts.values()} == tools
    for target in scripts.values():
        module, function = target.split(':')
        assert callable(getattr(importlib.import_module(module.replace('paddlevideo_tools', 'tools')), function))
    assert not any(dep.startswith('paddlepaddle') for dep in project['project']['dependencies'])
