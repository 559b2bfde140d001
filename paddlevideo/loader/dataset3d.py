"""Skeleton3DDataset: 3D joints from an .npz (`joints` (N, T, V, 3), `lengths` (N,), `labels` (N,)), for pipelines
that start with a camera (RandomCamera) and go on in 2D."""
import os
import zipfile

import numpy as np

from ..utils.errors import DataError
from ..utils.registry import COMPONENTS
from .dataset import SkeletonDataset, load_labels


@COMPONENTS.register('dataset')
class Skeleton3DDataset(SkeletonDataset):
    """Samples (pipeline(joints of clip i as (3, length, V, 1)), label i); the labels are the file's `labels`
    unless label_path is given. Nothing is unpickled: the arrays must be plain numeric ones."""

    def __init__(self, file_path, pipeline, label_path=None, test_mode=False, channels=None, joints=None,
                 persons=None, num_classes=None, seed=0, indices=None):
        self.file_path, self.pipeline, self.seed, self.epoch, self._mmap = file_path, pipeline, seed, 0, None
        if not os.path.isfile(file_path):
            raise DataError(f'3D joints file not found: {file_path}')
        try:
            with np.load(file_path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in ('joints', 'lengths', 'labels') if k in z.files}
        except (ValueError, OSError, zipfile.BadZipFile, EOFError) as e:
            raise DataError(f'{file_path}: not a readable .npz of numeric arrays ({e})') from None
        if 'joints' not in arrays or 'lengths' not in arrays:
            raise DataError(f"{file_path}: expected arrays 'joints' (N, T, V, 3) and 'lengths' (N,), found "
                            f"{sorted(arrays)}")
        self.data, lengths = arrays['joints'], arrays['lengths']
        if self.data.ndim != 4 or self.data.shape[-1] != 3 or (joints is not None and self.data.shape[2] != joints):
            raise DataError(f'{file_path}: expected joints of shape (N, T, {joints or "V"}, 3), found '
                            f'{self.data.shape}')
        if lengths.shape != (len(self.data),) or not np.issubdtype(lengths.dtype, np.integer) or \
                (len(lengths) and (lengths.min() < 1 or lengths.max() > self.data.shape[1])):
            raise DataError(f'{file_path}: lengths must be {len(self.data)} integers in 1..{self.data.shape[1]}')
        if not np.isfinite(self.data).all():
            raise DataError(f'{file_path}: joints contain NaN or Inf')
        self.lengths = lengths.astype(np.int64)
        if label_path:
            self.labels = load_labels(label_path, len(self.data), num_classes)
        elif 'labels' in arrays:
            self.labels = arrays['labels'].astype(np.int64)
            if self.labels.shape != (len(self.data),) or (len(self.labels) and num_classes is not None and not
                                                          0 <= self.labels.min() <= self.labels.max() < num_classes):
                raise DataError(f'{file_path}: labels must be {len(self.data)} integers in 0..{num_classes - 1}')
        elif test_mode:
            self.labels = None
        else:
            raise DataError(f"{file_path}: no 'labels' array and no label_path")
        self.indices = np.arange(len(self.data)) if indices is None else np.asarray(indices)

    def raw(self, i):
        j = int(self.indices[i])
        return np.ascontiguousarray(self.data[j, :self.lengths[j]].transpose(2, 0, 1)[..., None])
