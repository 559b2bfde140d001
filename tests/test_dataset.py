"""SkeletonDataset: memory-mapped loading, and a one-line DataError for every malformed input."""
import os
import stat

import numpy as np
import pytest

from paddlevideo.loader.dataset import SkeletonDataset
from paddlevideo.loader.pipelines import Compose
from paddlevideo.utils.errors import DataError
from paddlevideo.utils.fileio import atomic_write

PIPE = Compose({'sample': {'name': 'Sampleframe', 'window_size': 16}, 'transform': [{'SkeletonNorm': None}]})


def make(tmp_path, data=None, labels=None, name='x'):
    data = np.random.default_rng(0).normal(size=(6, 3, 20, 25, 1)).astype(np.float32) if data is None else data
    labels = np.arange(len(data)) % 3 if labels is None else labels
    np.save(tmp_path / f'{name}_data.npy', data)
    np.save(tmp_path / f'{name}_label.npy', labels)
    return str(tmp_path / f'{name}_data.npy'), str(tmp_path / f'{name}_label.npy')


def open_ds(data_path, label_path=None, **kw):
    args = dict(channels=2, joints=25, persons=1, num_classes=3)
    args.update(kw)
    return SkeletonDataset(data_path, PIPE, label_path=label_path, **args)


def test_samples_go_through_the_pipeline(tmp_path):
    d, l = make(tmp_path)
    ds = open_ds(d, l)
    x, y = ds[4]
    raw = np.load(d)[4]
    assert x.shape == (2, 16, 25, 1) and x.dtype == np.float32 and y == 1
    assert np.allclose(x, PIPE(raw, None), atol=1e-6)
    assert isinstance(ds.data, np.ndarray) and not ds.data.flags.owndata   # a view of the map, not a copy
    sub = open_ds(d, l, indices=[5, 1])
    assert len(sub) == 2 and sub[0][1] == 2 and sub[1][1] == 1


def test_unlabelled_test_mode(tmp_path):
    d, _ = make(tmp_path)
    ds = open_ds(d, test_mode=True)
    assert ds.labels is None and ds[0][1] == -1
    with pytest.raises(DataError, match='needs label_path'):
        open_ds(d)


@pytest.mark.parametrize('mutate, message', [
    (lambda d, l: (d[0], l), r'expected a 5-d array N x C x T x V x M, found shape \(3, 20, 25, 1\)'),
    (lambda d, l: (d[:, :1], l), r'expected at least 2 channels \(C, axis 1\), found C=1'),
    (lambda d, l: (d[:, :, :, :17], l), r'expected V=25 joints \(axis 3\) for this layout, found V=17'),
    (lambda d, l: (np.concatenate([d, d], axis=4), l), r'expected M=1 persons \(axis 4\), found M=2'),
    (lambda d, l: (np.where(np.arange(6)[:, None, None, None, None] == 4, np.nan, d), l),
     'sample 4 contains NaN or Inf'),
    (lambda d, l: (np.where(np.arange(6)[:, None, None, None, None] == 2, np.inf, d), l),
     'sample 2 contains NaN or Inf'),
    (lambda d, l: (np.where(np.arange(6)[:, None, None, None, None] == 3, 0, d), l),
     r'sample 3 is all zeros \(no skeleton in any frame\)'),
    (lambda d, l: (d[:0], l[:0]), r'no samples \(shape \(0, 3, 20, 25, 1\)\)'),
    (lambda d, l: (d > 0, l), 'expected skeleton coordinates as real numbers \\(float or int\\), found bool'),
    (lambda d, l: (d.astype(np.complex64), l), 'expected skeleton coordinates as real numbers .* found complex64'),
    (lambda d, l: (d, np.array([0, 1, 2, 3, 0, 1])), r'label 3 out of range for num_classes=3 \(expected 0..2\)'),
    (lambda d, l: (d, np.array([0, 1, -1, 0, 0, 1])), 'label -1 out of range'),
    (lambda d, l: (d, l[:5]), '5 labels for 6 data samples'),
    (lambda d, l: (d, l.astype(np.float32)), 'expected a 1-d integer label array'),
])
def test_bad_input_is_a_clear_error(tmp_path, mutate, message):
    data = np.random.default_rng(0).normal(size=(6, 3, 20, 25, 1)).astype(np.float32)
    d, l = make(tmp_path, *mutate(data, np.arange(6) % 3))
    with pytest.raises(DataError, match=message) as err:
        open_ds(d, l)
    assert '\n' not in str(err.value)


def test_missing_and_truncated_files(tmp_path):
    with pytest.raises(DataError, match='data file not found: .*nothing.npy'):
        open_ds(str(tmp_path / 'nothing.npy'))
    d, l = make(tmp_path)
    raw = open(d, 'rb').read()
    open(d, 'wb').write(raw[:len(raw) // 2])
    with pytest.raises(DataError, match=r'truncated, header says shape \(6, 3, 20, 25, 1\) float32'):
        open_ds(d, l)
    open(d, 'wb').write(b'not a numpy file at all')
    with pytest.raises(DataError, match='not a .npy file'):
        open_ds(d, l)


def test_real_penn_split_opens_with_labels(penn):
    from conftest import PENN
    ds = SkeletonDataset(str(PENN / 'test_data.npy'), PIPE, label_path=str(PENN / 'test_label.npy'),
                         channels=2, joints=25, persons=1, num_classes=15)
    assert len(ds) == 1068 and np.array_equal(ds.labels, penn['test_y'])
    with pytest.raises(DataError, match='label 14 out of range for num_classes=10'):
        SkeletonDataset(str(PENN / 'test_data.npy'), PIPE, label_path=str(PENN / 'test_label.npy'), num_classes=10)


def test_channel_check_counts_the_channels_the_pipeline_adds(tmp_path):
    """With GenSkeFeat the model takes 8 channels made from a file's x, y: the file needs 2, not 8."""
    from conftest import ROOT
    from paddlevideo.loader.builder import build_dataset
    from paddlevideo.utils.config import get_config

    d, l = make(tmp_path, data=np.random.default_rng(0).normal(size=(6, 2, 20, 25, 1)).astype(np.float32))
    cfg = get_config(str(ROOT / 'configs/recognition/stgcn/stgcn_penn_action.yaml'),
                     [f'DATASET.test.file_path={d}', f'DATASET.test.label_path={l}', 'MODEL.backbone.in_channels=8'])
    cfg.PIPELINE.test.transform = [{'SkeletonNorm': None}]
    with pytest.raises(DataError, match=f'{d}: expected at least 8 channels'):
        build_dataset(cfg, 'test')
    cfg.PIPELINE.test.transform.append({'GenSkeFeat': {'feats': ['j', 'b', 'jm', 'bm']}})
    x, y = build_dataset(cfg, 'test')[1]
    assert x.shape == (8, 48, 25, 1) and y == 1


def test_atomic_write_keeps_the_old_file_on_failure_and_gives_the_umask_mode(tmp_path):
    path = tmp_path / 'out.bin'
    path.write_bytes(b'old')

    def fails(f):
        f.write(b'half')
        raise RuntimeError('disk full')
    with pytest.raises(RuntimeError, match='disk full'):
        atomic_write(str(path), fails)
    assert path.read_bytes() == b'old' and [p.name for p in tmp_path.iterdir()] == ['out.bin']
    old = os.umask(0o027)
    try:
        atomic_write(str(path), lambda f: f.write(b'new'))
    finally:
        os.umask(old)
    assert path.read_bytes() == b'new' and stat.S_IMODE(path.stat().st_mode) == 0o640
