"""The synthetic skating data set: FSD layout, padding, determinism, upright figures, learnable but not trivial."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from paddlevideo.loader.synthetic import make_synthetic_skating  # noqa: E402

FEET = [11, 14]  # RAnkle, LAnkle


@pytest.fixture(scope='module')
def train():
    return make_synthetic_skating(60, seed=0)


@pytest.fixture(scope='module')
def test():
    return make_synthetic_skating(20, seed=1)


def valid_lengths(data):
    """1 + the last frame holding any non-zero value, per clip."""
    nonzero = np.abs(data).sum(axis=(1, 3, 4)) > 0
    return np.array([np.nonzero(row)[0].max() + 1 for row in nonzero])


def features(data, frames=16):
    """x, y of every joint at `frames` evenly spaced valid frames, centred on MidHip, scaled to unit spread."""
    out = []
    for clip, length in zip(data[..., 0], valid_lengths(data)):
        xy = clip[:2, np.linspace(0, length - 1, frames).round().astype(int)]
        xy = xy - xy[:, :, 8:9]
        out.append((xy / xy.std()).ravel())
    return np.array(out, dtype=np.float64)


def ridge_classifier(x, y, x_test, classes, l2=300.0):
    """Linear least squares onto one-hot targets (ridge penalty l2) on standardised features; predicted classes."""
    mean, std = x.mean(0), x.std(0) + 1e-6
    x, x_test = (x - mean) / std, (x_test - mean) / std
    w = np.linalg.solve(x.T @ x + l2 * np.eye(x.shape[1]), x.T @ (np.eye(classes)[y] - 1 / classes))
    return (x_test @ w).argmax(1)


def test_layout_dtype_and_ranges(train):
    data, labels, names = train
    assert names == ['jump', 'spin', 'step_sequence', 'spiral', 'crossovers']
    assert data.shape == (300, 3, 150, 25, 1) and data.dtype == np.float32 and labels.dtype == np.int64
    assert np.bincount(labels).tolist() == [60] * 5
    assert labels[:20].tolist() != sorted(labels[:20].tolist())  # shuffled, not grouped by class
    assert data[:, :2].min() >= -1 and data[:, :2].max() <= 1
    assert data[:, :2].min() < -0.9 and data[:, :2].max() > 0.9  # the frame is used, not a corner of it
    assert data[:, 2].min() == 0 and data[:, 2].max() <= 1


def test_padding_is_exact_zero_and_lengths_vary(train):
    data = train[0]
    lengths = valid_lengths(data)
    assert lengths.min() >= 40 and lengths.max() <= 120 and len(np.unique(lengths)) > 40
    dropped = []
    for clip, length in zip(data, lengths):
        assert not clip[:, length:].any()
        seen = clip[2, :length, :, 0] > 0
        assert seen.sum(1).min() >= 20  # no empty frame inside a clip: padding starts right after it
        assert np.array_equal(seen, clip[:2, :length, :, 0].any(0))  # missing joint <=> (0, 0, confidence 0)
        dropped.append(1 - seen.mean())
    assert 0.001 < np.mean(dropped) < 0.05  # a few dropped joints, not many


def test_deterministic_for_a_seed():
    first, again, other = (make_synthetic_skating(2, seed) for seed in (7, 7, 8))
    assert np.array_equal(first[0], again[0]) and np.array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


def test_window_must_hold_the_longest_clip():
    with pytest.raises(ValueError, match='max_len'):
        make_synthetic_skating(1, 0, max_frames=100)


def test_head_above_feet(train):
    """Upright skaters: the nose is above the lower ankle (the one on the ice) in every frame."""
    data, labels, names = train
    for clip, length, label in zip(data[..., 0], valid_lengths(data), labels):
        y, seen = clip[1, :length], clip[2, :length] > 0
        both = seen[:, 0] & seen[:, FEET].all(1)
        height = y[both][:, FEET].max(1) - y[both, 0]  # image y grows downwards
        assert height.min() > 0 and height.mean() > 0.3 * (y[seen].max() - y[seen].min()), names[label]


def test_classes_learnable_but_not_trivial(train, test):
    (x, y, names), (x_test, y_test, _) = train, test
    f, f_test = features(x), features(x_test)
    chance = 1 / len(names)
    predicted = ridge_classifier(f, y, f_test, len(names))
    linear = (predicted == y_test).mean()
    centroids = np.stack([f[y == c].mean(0) for c in range(len(names))])
    nearest = (((f_test[:, None] - centroids) ** 2).sum(-1).argmin(1) == y_test).mean()
    print(f'held-out accuracy: linear (ridge) {linear:.2f}, nearest centroid {nearest:.2f}, chance {chance:.2f}')
    assert 2 * chance < linear < 0.95
    assert 1.5 * chance < nearest < 0.9
    # no two classes are the same motion: they would swap about half of their clips
    confusion = np.bincount(y_test * len(names) + predicted, minlength=len(names) ** 2).reshape(len(names), -1)
    count = confusion.sum(1)
    swapped = (confusion + confusion.T) / (count[:, None] + count[None])
    np.fill_diagonal(swapped, 0)
    assert swapped.max() < 0.3, swapped.round(2)


def test_cli_writes_the_split_atomically(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location('make_synthetic_data', REPO / 'tools' / 'make_synthetic_data.py')
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.main(['--out', str(tmp_path), '--train-per-class', '3', '--test-per-class', '2', '--seed', '4'])
    assert sorted(p.name for p in tmp_path.iterdir()) == ['class_names.txt', 'test_data.npy', 'test_label.npy',
                                                         'train_data.npy', 'train_label.npy']
    train_data, test_data = np.load(tmp_path / 'train_data.npy'), np.load(tmp_path / 'test_data.npy')
    assert train_data.shape == (15, 3, 150, 25, 1) and test_data.shape == (10, 3, 150, 25, 1)
    assert np.load(tmp_path / 'train_label.npy').dtype == np.int64
    assert np.array_equal(train_data, make_synthetic_skating(3, 8)[0])
    assert not any(np.array_equal(a, b) for a in test_data for b in train_data)  # disjoint clips
    assert (tmp_path / 'class_names.txt').read_text().split() == make_synthetic_skating(1, 0)[2]
    assert 'train 15 clips, test 10 clips' in capsys.readouterr().out
