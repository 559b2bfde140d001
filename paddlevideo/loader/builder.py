"""Datasets and loaders from the DATASET and PIPELINE sections; the data shape the config expects."""
import collections
import multiprocessing
import os
import signal

import numpy as np
import paddle

from ..skeleton import NORMS, layout_spec
from ..utils.config import number
from ..utils.errors import ConfigError
from ..utils.fileio import check_input_file
from ..utils.registry import COMPONENTS
from .pipelines import Compose


def data_spec(cfg):
    """What the model takes, from the config: channels, layout, joints, persons, window, the coordinate
    normalisation of its training data (INFERENCE.coords: fsd or unit) and their frame rate (INFERENCE.fps)."""
    backbone = cfg.MODEL.get('backbone') or {}
    inference = cfg.get('INFERENCE') or {}
    window = inference.get('window_size')
    for split in ('test', 'valid', 'train'):
        sample = ((cfg.get('PIPELINE') or {}).get(split) or {}).get('sample') or {}
        window = window or sample.get('window_size')
    layout, coords = backbone.get('layout', 'fsd10'), inference.get('coords', 'fsd')
    if coords not in NORMS:
        raise ConfigError(f"INFERENCE.coords: unknown coordinate normalisation '{coords}'; known: {', '.join(NORMS)}")
    return dict(channels=int(backbone.get('in_channels', inference.get('num_channels', 2))), layout=layout,
                joints=layout_spec(layout)['num_node'], persons=inference.get('person_nums'), window=window,
                coords=coords, fps=inference.get('fps'))


def num_classes(cfg):
    return int((cfg.MODEL.get('head') or {}).get('num_classes', 10))


def background_class(cfg):
    """INFERENCE.background_class: the class that means 'no element' (a video timeline shows none there), or
    None."""
    given = (cfg.get('INFERENCE') or {}).get('background_class')
    if given is None:
        return None
    return number('INFERENCE.background_class', given, int, low=0, high=num_classes(cfg) - 1)


def metric_top_k(cfg):
    """METRIC.top_k (PaddleVideo's key), the k of the top-k accuracy reported beside top-1 (default 5)."""
    return number('METRIC.top_k', (cfg.get('METRIC') or {}).get('top_k', 5), int, low=1)


def class_names(cfg):
    """The class names, in label order: INFERENCE.class_names (a list, or a text file with one name per line),
    else a class_names.txt beside DATASET.test.file_path; None when neither is there. A list of the wrong length
    is a ConfigError."""
    given = (cfg.get('INFERENCE') or {}).get('class_names')
    count = num_classes(cfg)
    if given is None:
        test = ((cfg.get('DATASET') or {}).get('test') or {}).get('file_path')
        path = os.path.join(os.path.dirname(test), 'class_names.txt') if test else None
        if not path or not os.path.isfile(path):
            return None
        names = read_names(path)
        return names if len(names) == count else None
    if isinstance(given, str):
        return read_names(given, count)
    if len(given) != count:
        raise ConfigError(f'INFERENCE.class_names: {len(given)} names for num_classes={count}')
    return [str(n) for n in given]


def read_names(path, count=None):
    """Class names from a text file, one per line (blank lines skipped); with `count`, exactly that many."""
    check_input_file(path, 'class names file', ConfigError)
    try:
        with open(path, encoding='utf-8') as f:
            names = [line.strip() for line in f if line.strip()]
    except UnicodeDecodeError:
        raise ConfigError(f'{path}: not a text file of class names (not UTF-8)') from None
    if count is not None and len(names) != count:
        raise ConfigError(f'{path}: {len(names)} class names for {count} classes (one name per line expected)')
    return names


def build_dataset(cfg, split, pipeline_split=None, **extra):
    """DATASET.<split> with PIPELINE.<pipeline_split or split>; extra: indices, seed, test_mode."""
    section = (cfg.get('DATASET') or {}).get(split)
    if not section:
        raise ConfigError(f'DATASET.{split} is missing')
    pipe_cfg = (cfg.get('PIPELINE') or {}).get(pipeline_split or split) or \
        (cfg.get('PIPELINE') or {}).get('test')
    spec = data_spec(cfg)
    pipeline = Compose(pipe_cfg, spec['layout'], spec['window'])
    args = dict(section)
    args.pop('num_classes', None)
    if args.get('background') is not None:   # its class is the one INFERENCE names, written once
        label = background_class(cfg)
        if label is None:
            raise ConfigError(f'DATASET.{split}.background needs INFERENCE.background_class (the class it trains)')
        args['background'] = {**args['background'], 'label': label}
    return COMPONENTS.build('dataset', {'name': args.pop('format', 'SkeletonDataset'), **args},
                            pipeline=pipeline, channels=pipeline.in_channels(spec['channels']),
                            joints=spec['joints'], persons=spec['persons'], num_classes=num_classes(cfg), **extra)


class EpochBatchSampler(paddle.io.BatchSampler):
    """Batches of indices, reshuffled by (seed, epoch) so an interrupted run resumes with the same order.

    Under data parallelism every rank draws the same permutation, trims it to a multiple of `world` and takes
    every world-th index from its `rank`: the ranks see disjoint samples and the same number of batches.
    """

    def __init__(self, dataset, batch_size, shuffle, drop_last, seed=0, rank=0, world=1):
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        self.seed, self.epoch, self.rank, self.world = seed, 0, rank, world

    def set_epoch(self, epoch):
        self.epoch = epoch
        self.dataset.set_epoch(epoch)

    def __iter__(self):
        n = len(self.dataset)
        order = np.random.default_rng([self.seed, self.epoch]).permutation(n) if self.shuffle else np.arange(n)
        order = order[self.rank:n - n % self.world:self.world]
        n = len(order)
        for start in range(0, n, self.batch_size):
            batch = order[start:start + self.batch_size]
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch.tolist()

    def __len__(self):
        n = len(self.dataset) // self.world
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def collate(batch):
    data = np.stack([b[0] for b in batch])
    labels = np.array([b[1] for b in batch], dtype=np.int64)
    return data, labels


class BatchLoader:
    """Batches of (data, labels) tensors in sampler order, made in this thread or, with `workers`, in forked
    worker processes (at most two batches per worker ahead). Paddle's DataLoader leaves the training loop
    waiting forever when a transform raises in its loader thread, and turns a worker's error into 'Blocking
    queue is killed'; here the transform's own exception reaches the caller, with its message."""

    def __init__(self, dataset, sampler, workers=0):
        self.dataset, self.sampler, self.workers = dataset, sampler, workers

    def __len__(self):
        return len(self.sampler)

    def batch(self, indices):
        return collate([self.dataset[i] for i in indices])

    def __iter__(self):
        if self.workers <= 0:
            batches = map(self.batch, self.sampler)
            yield from ((paddle.to_tensor(d), paddle.to_tensor(y)) for d, y in batches)
            return
        # forked per epoch, so the workers see the dataset's current epoch (its augmentation seed); they inherit
        # the loader (a memory-mapped dataset cannot be pickled to them) and Paddle's signal handlers, which
        # would print a C++ 'FatalError' for the SIGTERM that ends a pool
        global _FORKED
        _FORKED = self
        with multiprocessing.get_context('fork').Pool(self.workers, _default_sigterm) as pool:
            pending = collections.deque()
            for indices in self.sampler:
                pending.append(pool.apply_async(_forked_batch, (indices,)))
                if len(pending) > 2 * self.workers:
                    d, y = pending.popleft().get()
                    yield paddle.to_tensor(d), paddle.to_tensor(y)
            while pending:
                d, y = pending.popleft().get()
                yield paddle.to_tensor(d), paddle.to_tensor(y)


_FORKED = None  # the BatchLoader whose workers are being forked


def _default_sigterm():
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _forked_batch(indices):
    return _FORKED.batch(indices)


def build_loader(dataset, batch_size, num_workers=0, shuffle=False, drop_last=False, seed=0, rank=0, world=1):
    """(loader, sampler): batches of the dataset, in `num_workers` processes or, with 0, in this thread."""
    sampler = EpochBatchSampler(dataset, batch_size, shuffle, drop_last, seed, rank, world)
    return BatchLoader(dataset, sampler, num_workers), sampler
