"""Late fusion of separately trained streams (joint, bone, joint-motion, bone-motion), as mmaction2 reports
them: the weighted sum of each stream's softmax scores over the same test samples (its report_accuracy.py
--apply-softmax), from the dumps `main.py --test --dump` writes (logits and labels, in dataset order)."""
import math
import zipfile

import numpy as np

from ..utils.errors import ConfigError, DataError
from ..utils.fileio import atomic_write, check_input_file


def softmax(logits):
    """Row-wise softmax in float64."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def read_dump(path):
    """(logits (N, K), labels (N,) or None) from a --dump .npz; read without unpickling."""
    check_input_file(path, 'score dump')
    if not zipfile.is_zipfile(path):
        raise DataError(f'{path}: not a .npz archive (main.py --test --dump writes one)')
    try:
        with np.load(path, allow_pickle=False) as f:
            if 'logits' not in f:
                raise DataError(f"{path}: expected a main.py --dump .npz with 'logits', found keys {sorted(f)}")
            logits = np.asarray(f['logits'])
            labels = np.asarray(f['labels']) if 'labels' in f else None
    except (ValueError, OSError) as e:
        raise DataError(f'{path}: not a readable .npz score dump ({e})') from None
    if logits.ndim != 2 or not np.issubdtype(logits.dtype, np.floating) or not np.isfinite(logits).all():
        raise DataError(f'{path}: expected finite float logits (N, classes), found shape {logits.shape} '
                        f'{logits.dtype}')
    if not len(logits):
        raise DataError(f'{path}: no samples (logits of shape {logits.shape})')
    if labels is not None and (labels.shape != (len(logits),) or not np.issubdtype(labels.dtype, np.integer)):
        raise DataError(f'{path}: expected {len(logits)} integer labels, found shape {labels.shape} {labels.dtype}')
    if labels is not None and not ((labels >= 0) & (labels < logits.shape[1])).all():
        raise DataError(f'{path}: labels must be class ids 0..{logits.shape[1] - 1} (logits have {logits.shape[1]} '
                        f'classes), found {labels.min()}..{labels.max()}')
    return logits, labels


def check_same_samples(dumps):
    """Raise DataError unless the dumps [(path, logits, labels)] hold the same samples in the same order: the same
    count and class count, and (as far as labels can tell) the same labels at every row."""
    path0, logits0, labels0 = dumps[0]
    for path, logits, labels in dumps[1:]:
        if len(logits) != len(logits0):
            raise DataError(f'{path}: {len(logits)} samples, {path0} has {len(logits0)}: the dumps must cover the '
                            f'same test set')
        if logits.shape[1] != logits0.shape[1]:
            raise DataError(f'{path}: {logits.shape[1]} classes, {path0} has {logits0.shape[1]}')
        if (labels is None) != (labels0 is None):
            raise DataError(f'{path}: labels {"missing" if labels is None else "present"}, in {path0} '
                            f'{"missing" if labels0 is None else "present"}: dumps of the same labelled test set '
                            f'expected')
        if labels is not None and not np.array_equal(labels, labels0):
            rows = np.flatnonzero(labels != labels0)
            same_set = np.array_equal(np.sort(labels), np.sort(labels0))
            raise DataError(f'{path}: labels differ from {path0} at {len(rows)} rows (first: row {rows[0]}, '
                            f'{labels[rows[0]]} vs {labels0[rows[0]]}); ' +
                            ('same labels in another order: the samples are not in the same order' if same_set
                             else 'not the same test samples'))


def check_weights(weights, count, what='score dumps'):
    """Raise ConfigError unless there is one finite non-negative weight per stream, not all zero."""
    if len(weights) != count:
        raise ConfigError(f'{len(weights)} weights for {count} {what}: one weight per {what[:-1]}')
    if not all(math.isfinite(w) and w >= 0 for w in weights) or not sum(weights) > 0:
        raise ConfigError(f'weights {list(weights)}: expected finite non-negative numbers, not all zero')


def fuse_scores(logits_list, weights):
    """sum_i weights[i] * softmax(logits_i), (N, K) in float64."""
    check_weights(weights, len(logits_list))
    return sum(float(w) * softmax(z) for w, z in zip(weights, logits_list))


def write_fused(path, scores, labels=None):
    """The fused scores and, as 'logits', their log (softmax of it gives the normalised scores), so the file
    reads back as a dump: fused again, or reported."""
    normalised = scores / scores.sum(axis=1, keepdims=True)
    arrays = {'scores': scores.astype(np.float32),
              'logits': np.log(np.maximum(normalised, np.finfo(np.float32).tiny)).astype(np.float32)}
    if labels is not None:
        arrays['labels'] = labels.astype(np.int64)
    atomic_write(path, lambda f: np.savez(f, **arrays))
