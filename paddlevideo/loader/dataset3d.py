"""Skeleton3DDataset: 3D joints from an .npz (`joints` (N, T, V, 3), `lengths` (N,), `labels` (N,)), for pipelines
that start with a camera (RandomCamera) and go on in 2D; optionally a background class cut from the frames
around the jumps, so that a sliding window over a video has something to say when no jump is in it."""
import os
import zipfile

import numpy as np

from ..skeleton.jumps import jump_free_runs
from ..utils.config import number
from ..utils.errors import DataError
from ..utils.registry import COMPONENTS
from .dataset import SkeletonDataset, load_labels


@COMPONENTS.register('dataset')
class Skeleton3DDataset(SkeletonDataset):
    """Samples (pipeline(joints of clip i as (3, length, V, 1)), label i); the labels are the file's `labels`
    unless label_path is given. Nothing is unpickled: the arrays must be plain numeric ones.

    `background: {label, fraction, margin, min_frames}` adds round(fraction x the clips that have one) samples of
    class `label` after the jumps: each `min_frames` consecutive frames (enough for the pipeline's window after
    its camera's resampling) from a jump-free run of a clip (see jump_free_runs; `margin` frames kept clear of
    the flight), a different clip, run and place every epoch. Only the selected clips (`indices`) give any.
    """

    def __init__(self, file_path, pipeline, label_path=None, test_mode=False, channels=None, joints=None,
                 persons=None, num_classes=None, seed=0, indices=None, background=None):
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
        if not len(self.data) or self.data.dtype.kind not in 'fiu':
            raise DataError(f'{file_path}: expected at least one clip of real numbers, found {len(self.data)} clips '
                            f'of {self.data.dtype}')
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
        self.background, self.runs, self.background_count = None, [], 0
        if background:
            self._set_background(dict(background), num_classes)

    def _set_background(self, cfg, num_classes):
        unknown = set(cfg) - {'label', 'fraction', 'margin', 'min_frames'}
        label = cfg.get('label')
        if unknown or not isinstance(label, int) or (num_classes is not None and not 0 <= label < num_classes):
            raise DataError(f'{self.file_path}: background expects {{label: 0..{(num_classes or 1) - 1}, fraction, '
                            f'margin, min_frames}}, found {cfg}')
        margin = number('background.margin', cfg.get('margin', 24), int, low=0)
        min_frames = number('background.min_frames', cfg.get('min_frames', 110), int, low=1)
        fraction = number('background.fraction', cfg.get('fraction', 1.0), low=0)
        self.background = label
        self.runs = [(int(j), a, b) for j in self.indices
                     for a, b in jump_free_runs(self.data[j, :self.lengths[j]], margin, min_frames)]
        self.min_frames = min_frames
        clips = len({j for j, _, _ in self.runs})
        self.background_count = int(round(fraction * clips))

    def __len__(self):
        return len(self.indices) + self.background_count

    def _background_sample(self, k):
        """Background sample k of this epoch: a run taken in turn over the epochs, a random place in it."""
        rng = np.random.default_rng([self.seed, self.epoch, len(self.data) + k])
        j, a, b = self.runs[(k + self.epoch * self.background_count) % len(self.runs)]
        start = a + int(rng.integers(0, b - a - self.min_frames + 1))
        clip = self.data[j, start:start + self.min_frames].transpose(2, 0, 1)[..., None]
        return self.pipeline(np.ascontiguousarray(clip), rng), np.int64(self.background)

    def __getitem__(self, i):
        if i >= len(self.indices):
            return self._background_sample(i - len(self.indices))
        return super().__getitem__(i)

    def raw(self, i):
        j = int(self.indices[i])
        return np.ascontiguousarray(self.data[j, :self.lengths[j]].transpose(2, 0, 1)[..., None])
