"""SkeletonDataset: an (N, C, T, V, M) .npy of skeletons and an optional (N,) label .npy.

The data file is memory-mapped (a 1.3 GB FSD array is never copied) and every check a user's mistake needs is
made when the file is opened: truncation, rank, C / V / M against the config, NaN / Inf, label count and range.
Pages read for a sample are released again, so the resident memory stays small through an epoch.
"""
import mmap
import os

import numpy as np

from ..utils.checkpoint import safe_unpickle
from ..utils.errors import DataError
from ..utils.registry import COMPONENTS

_SCAN_BYTES = 64 << 20  # NaN / Inf scan chunk


def open_npy(path, what='data'):
    """Memory-map a .npy file, checking that it is complete; returns (array view, mmap or None, data offset)."""
    if os.path.isdir(path):
        raise DataError(f'{path} is a folder; expected a {what} .npy file')
    if not os.path.isfile(path):
        raise DataError(f'{what} file not found: {path}')
    with open(path, 'rb') as f:
        try:
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(f)
        except (ValueError, OSError) as e:
            raise DataError(f'{path}: not a .npy file ({e})') from None
        offset = f.tell()
        size = os.fstat(f.fileno()).st_size
        need = offset + int(np.prod(shape)) * dtype.itemsize
        if size < need:
            raise DataError(f'{path}: truncated, header says shape {tuple(shape)} {dtype} ({need} bytes), '
                            f'file has {size} bytes')
        if dtype.hasobject or fortran:
            raise DataError(f'{path}: expected a C-ordered numeric array, found '
                            f'{"object" if dtype.hasobject else "Fortran-ordered"} data')
        if int(np.prod(shape)) == 0:
            return np.zeros(shape, dtype), None, offset
        mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    return np.ndarray(shape, dtype, buffer=mm, offset=offset), mm, offset


def check_samples(array, path, release=None):
    """Raise DataError unless `array` (N, ...) holds at least one sample, of real numbers (not bool or complex),
    every sample finite and with a skeleton in some frame (not all zeros); release(start, stop) frees the
    scanned samples."""
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise DataError(f'{path}: expected skeleton coordinates as real numbers (float or int), found {array.dtype}')
    if len(array) == 0:
        raise DataError(f'{path}: no samples (shape {tuple(array.shape)})')
    rows = max(1, _SCAN_BYTES // max(1, array[0].nbytes))
    for start in range(0, len(array), rows):
        chunk = array[start:start + rows].reshape(min(rows, len(array) - start), -1)
        finite, empty = np.isfinite(chunk).all(axis=1), ~np.any(chunk != 0, axis=1)
        if release is not None:
            release(start, start + len(chunk))
        if not finite.all():
            raise DataError(f'{path}: sample {start + int(np.flatnonzero(~finite)[0])} contains NaN or Inf')
        if empty.any():
            raise DataError(f'{path}: sample {start + int(np.flatnonzero(empty)[0])} is all zeros (no skeleton in '
                            f'any frame)')


def check_skeleton_shape(shape, path, channels=None, joints=None, persons=None):
    """Raise DataError unless `shape` is (N, C, T, V, M) with C >= channels, V == joints, M == persons."""
    if len(shape) != 5:
        raise DataError(f'{path}: expected a 5-d array N x C x T x V x M, found shape {tuple(shape)}')
    _, C, _, V, M = shape
    if channels is not None and C < channels:
        raise DataError(f'{path}: expected at least {channels} channels (C, axis 1), found C={C}')
    if joints is not None and V != joints:
        raise DataError(f'{path}: expected V={joints} joints (axis 3) for this layout, found V={V}')
    if persons is not None and M != persons:
        raise DataError(f'{path}: expected M={persons} persons (axis 4), found M={M}')


def read_label_pickle(path):
    """PaddleVideo's label .pkl, (sample names, labels), built only from plain containers and arrays."""
    if not os.path.isfile(path):
        raise DataError(f'label file not found: {path}')
    with open(path, 'rb') as f:
        content = safe_unpickle(path, f.read(), 'a label file', DataError)
    if isinstance(content, (tuple, list)) and len(content) == 2 and not np.isscalar(content[0]):
        content = content[1]
    try:
        return np.asarray(content)
    except ValueError as e:
        raise DataError(f'{path}: expected (sample names, labels) or labels, found {type(content).__name__} ({e})'
                        ) from None


def load_labels(path, count, num_classes=None):
    """Labels from an integer .npy (N,) or (N, 1), or from PaddleVideo's .pkl (sample names, labels)."""
    labels = read_label_pickle(path) if path.endswith('.pkl') else np.array(open_npy(path, 'label')[0])
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise DataError(f'{path}: expected a 1-d integer label array, found shape {labels.shape} {labels.dtype}')
    if len(labels) != count:
        raise DataError(f'{path}: {len(labels)} labels for {count} data samples')
    if len(labels) and (labels.min() < 0 or (num_classes is not None and labels.max() >= num_classes)):
        bad = labels.min() if labels.min() < 0 else labels.max()
        raise DataError(f'{path}: label {bad} out of range for num_classes={num_classes} (expected 0..'
                        f'{(num_classes or 0) - 1})')
    return labels.astype(np.int64)


@COMPONENTS.register('dataset')
class SkeletonDataset:
    """Samples (pipeline(data[i]), label[i]); `indices` restricts it to a subset (a validation split)."""

    def __init__(self, file_path, pipeline, label_path=None, test_mode=False, channels=None, joints=None,
                 persons=None, num_classes=None, seed=0, indices=None, data_prefix=None):
        self.file_path, self.pipeline, self.seed, self.epoch = file_path, pipeline, seed, 0
        self.data, self._mmap, self._offset = open_npy(file_path)
        check_skeleton_shape(self.data.shape, file_path, channels, joints, persons)
        check_samples(self.data, file_path, self._release)
        self.labels = None
        if label_path:
            self.labels = load_labels(label_path, len(self.data), num_classes)
        elif not test_mode:
            raise DataError(f'{file_path}: a training / validation set needs label_path (or test_mode: True)')
        self.indices = np.arange(len(self.data)) if indices is None else np.asarray(indices)

    def __len__(self):
        return len(self.indices)

    def set_epoch(self, epoch):
        """Random transforms draw from (seed, epoch, sample): the same run gives the same augmentations."""
        self.epoch = epoch

    def _release(self, start, stop):
        """Drop samples [start, stop) from this process's resident memory (the page cache keeps them)."""
        if self._mmap is None:
            return
        size = self.data[0].nbytes
        begin, end = self._offset + size * start, self._offset + size * stop
        aligned = begin - begin % mmap.PAGESIZE
        self._mmap.madvise(mmap.MADV_DONTNEED, aligned, end - aligned)

    def raw(self, i):
        """Sample i as stored (C, T, V, M), copied out of the map, whose pages are then released."""
        j = int(self.indices[i])
        sample = np.array(self.data[j])
        self._release(j, j + 1)
        return sample

    def __getitem__(self, i):
        rng = np.random.default_rng([self.seed, self.epoch, int(self.indices[i])])
        data = self.pipeline(self.raw(i), rng)
        if self.labels is None:
            return data, np.int64(-1)
        return data, self.labels[self.indices[i]]

