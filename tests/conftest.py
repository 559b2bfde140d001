"""Shared fixtures: the repository on sys.path, ../shared located (tests that need it skip without it)."""
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / 'shared'
sys.path.insert(0, str(ROOT))

import paddlevideo  # noqa: E402,F401  (CPU environment before paddle loads)

PENN = SHARED / 'data' / 'penn_action'
COMPAT = SHARED / 'compat'


def need(path):
    if not Path(path).exists():
        pytest.skip(f'{path} is absent (real data lives in ../shared beside the repository)')
    return Path(path)


@pytest.fixture(scope='session')
def penn():
    """Penn Action arrays, memory-mapped: dict(train_x, train_y, test_x, test_y, names)."""
    need(PENN)
    return dict(train_x=np.load(PENN / 'train_data.npy', mmap_mode='r'), train_y=np.load(PENN / 'train_label.npy'),
                test_x=np.load(PENN / 'test_data.npy', mmap_mode='r'), test_y=np.load(PENN / 'test_label.npy'),
                names=(PENN / 'class_names.txt').read_text().split())


@pytest.fixture(scope='session')
def compat():
    need(COMPAT)
    return COMPAT


def error_line(result):
    """The one 'error:' line of a command line that failed on bad input (exit 2), with no traceback."""
    assert result.returncode == 2, result.stderr
    assert 'Traceback' not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith('error:')]
    assert len(lines) == 1, result.stderr
    return lines[0]
