"""Cross-validation by group (leave one subject out, or k folds of whole groups), the loop `main.py --crossval`
calls: train each fold on the other groups, test it on the held-out ones in every view named in CROSSVAL.test,
report each fold and the mean and spread over folds, and the confusion matrix pooled over folds.

    output_dir/fold_<k>/         the fold's training log and checkpoints, <view>/confusion_matrix.csv / .png
    output_dir/pooled/<view>/    the same over every held-out sample, and its logits.npz (labels too, fold by fold:
                                 the same order in every run on the same groups, so tools/fuse_scores.py fuses the
                                 runs of separate streams)
    output_dir/crossval_summary.json and .txt

With `run_dir` (main.py --crossval --test -w RUN_DIR) nothing trains: each fold's last checkpoint in
RUN_DIR/fold_<k> is tested again, for example through another test pipeline (several windows a clip), and the
results go to output_dir, which must be another folder, so the run's own summary stays as it is.
"""
import copy
import json
import os
import time

import numpy as np

from ..loader import build_dataset, build_loader, class_names, num_classes
from ..loader.dataset import open_npy
from ..metrics import classification_report, format_report, write_confusion, write_dump
from ..modeling import build_model
from ..utils.checkpoint import load_weights
from ..utils.errors import ConfigError, DataError
from ..utils.fileio import write_text
from ..utils.logger import get_logger
from .train import checkpoint_path, evaluate, train_model


def load_groups(path, count):
    """The group of every training sample: a 1-d integer .npy of `count` entries holding two groups or more."""
    groups = np.array(open_npy(path, 'groups')[0])
    if groups.ndim != 1 or not np.issubdtype(groups.dtype, np.integer):
        raise DataError(f'{path}: expected a 1-d integer array (one group per training sample), found shape '
                        f'{groups.shape} {groups.dtype}')
    if len(groups) != count:
        raise DataError(f'{path}: {len(groups)} groups for {count} training samples')
    found = np.unique(groups)
    if len(found) < 2:
        raise DataError(f'{path}: a single group ({found[0] if len(found) else "none"}); cross-validation by '
                        f'group needs at least two')
    return groups.astype(np.int64)


def fold_splits(groups, folds=None):
    """[(held-out groups, train indices, test indices)]: whole groups per fold, the i-th group (in sorted order)
    in fold i % folds; folds=None leaves one group out per fold."""
    found = np.unique(groups)
    folds = len(found) if folds is None else int(folds)
    if not 2 <= folds <= len(found):
        raise ConfigError(f'CROSSVAL.folds {folds}: expected 2..{len(found)} (the number of groups)')
    splits = []
    for k in range(folds):
        held = found[k::folds]
        test = np.isin(groups, held)
        splits.append((held.tolist(), np.flatnonzero(~test), np.flatnonzero(test)))
    return splits


def spread(values):
    """mean, sample standard deviation (0 for one value), min and max of a list of figures."""
    v = np.asarray(values, dtype=np.float64)
    return dict(mean=float(v.mean()), std=float(v.std(ddof=1)) if len(v) > 1 else 0.0, min=float(v.min()),
                max=float(v.max()))


def test_views(cfg):
    """{view name: DATASET section} to test each fold on; by default DATASET.train itself (its held-out rows,
    through the test pipeline)."""
    views = (cfg.get('CROSSVAL') or {}).get('test')
    return dict(views) if views else {'train': dict(cfg.DATASET.train)}


def summarise(folds, view_names, pooled):
    """The summary dict: per view, mean / std / min / max over folds of top-1 and mean class accuracy, and the
    pooled figures."""
    out = {}
    for view in view_names:
        out[view] = {m: spread([f['views'][view][m] for f in folds]) for m in ('top1', 'mean_class_accuracy')}
        out[view].update(pooled_top1=pooled[view]['top1'],
                         pooled_mean_class_accuracy=pooled[view]['mean_class_accuracy'])
    return out


def summary_text(result):
    lines = [f"cross-validation by group ({result['groups_file']}), {len(result['folds'])} folds"]
    for f in result['folds']:
        figures = '  '.join(f"{v}: top1 {r['top1']:.2%} mca {r['mean_class_accuracy']:.2%}"
                            for v, r in f['views'].items())
        trained = (f"tested {f['weights']}" if 'weights' in f else
                   f"trained on {f['train_samples']} in {f['train_seconds']:.0f} s")
        lines.append(f"fold {f['fold']} (held out {f['test_groups']}, {f['test_samples']} samples, {trained}): "
                     f"{figures}")
    for view, s in result['summary'].items():
        t, m = s['top1'], s['mean_class_accuracy']
        lines.append(f"{view}: top1 {t['mean']:.2%} +- {t['std']:.2%} (min {t['min']:.2%}, max {t['max']:.2%}), "
                     f"mean class {m['mean']:.2%} +- {m['std']:.2%}; pooled top1 {s['pooled_top1']:.2%}, "
                     f"pooled mean class {s['pooled_mean_class_accuracy']:.2%}")
    return '\n'.join(lines) + '\n'


def crossval(cfg, groups_file=None, weights=None, seed=None, run_dir=None):
    """Train and test every fold, or test the folds of `run_dir` again (see the module docstring); returns the
    summary dict written to output_dir/crossval_summary.json. Under paddle.distributed.launch every process
    trains, rank 0 tests."""
    section = cfg.get('CROSSVAL') or {}
    groups_file = groups_file or section.get('groups')
    if not groups_file:
        raise ConfigError('cross-validation needs a groups file: CROSSVAL.groups in the config or --crossval FILE')
    out_dir = cfg.output_dir
    if run_dir is not None and os.path.realpath(run_dir) == os.path.realpath(out_dir):
        raise ConfigError(f'--crossval --test: output_dir is the run tested ({run_dir}); write the new results '
                          f'elsewhere (-o output_dir=...), so the run\'s own summary is kept')
    logger = get_logger(out_dir)
    train_set = build_dataset(cfg, 'train')
    groups = load_groups(groups_file, len(train_set.indices))    # one per stored sample (not background ones)
    splits = fold_splits(groups, section.get('folds'))
    views = test_views(cfg)
    for view, split in views.items():  # every view opened and checked before the first fold trains
        rows = len(build_dataset(_with_test(cfg, split), 'test').data)
        if rows != len(groups):
            raise DataError(f"{split.get('file_path')}: {rows} samples in view '{view}' for {len(groups)} groups "
                            f"({groups_file}): a view must hold the training samples in the same order")
    names, n = class_names(cfg), num_classes(cfg)
    rank = int(os.environ.get('PADDLE_TRAINER_ID', '0'))
    trained = [_fold_weights(cfg, run_dir, k) for k in range(len(splits))] if run_dir is not None else None
    folds, logits = [], {v: ([], []) for v in views}
    for k, (held, train_idx, test_idx) in enumerate(splits):
        fold_cfg = copy.deepcopy(cfg)
        fold_cfg.output_dir = os.path.join(out_dir, f'fold_{k}')
        fold = dict(fold=k, test_groups=held, train_samples=len(train_idx), test_samples=len(test_idx), views={})
        if trained:
            model = load_weights(build_model(cfg.MODEL), trained[k])
            fold['weights'] = trained[k]
        else:
            tic = time.time()
            model = train_model(fold_cfg, weights=weights, seed=seed, indices=train_idx)
            fold['train_seconds'] = round(time.time() - tic, 1)
        if rank != 0:
            continue
        logger = get_logger(out_dir)
        for view, split in views.items():
            view_cfg = _with_test(cfg, split)
            dataset = build_dataset(view_cfg, 'test', indices=test_idx)
            if dataset.labels is None:
                raise DataError(f"{split.get('file_path')}: view '{view}' needs labels (label_path)")
            loader, _ = build_loader(dataset, int(cfg.DATASET.get('test_batch_size', 32)))
            fold_logits, labels = evaluate(model, loader)
            report = classification_report(fold_logits, labels, n)
            write_confusion(report, os.path.join(fold_cfg.output_dir, view), names)
            logits[view][0].append(fold_logits)
            logits[view][1].append(labels)
            fold['views'][view] = dict(top1=report['top1'], mean_class_accuracy=report['mean_class_accuracy'])
            logger.info(f'fold {k} (held out groups {held}), view {view}:\n' + format_report(report, names))
        folds.append(fold)
    if rank != 0:
        return None
    pooled = {}
    for view, (fold_logits, labels) in logits.items():
        fold_logits, labels = np.concatenate(fold_logits), np.concatenate(labels)
        report = classification_report(fold_logits, labels, n)
        write_confusion(report, os.path.join(out_dir, 'pooled', view), names)
        write_dump(os.path.join(out_dir, 'pooled', view, 'logits.npz'), fold_logits, labels)  # for fuse_scores
        pooled[view] = report
        logger.info(f'pooled over folds, view {view}:\n' + format_report(report, names))
    result = dict(groups_file=groups_file, class_names=names, folds=folds,
                  summary=summarise(folds, list(views), pooled))
    write_text(os.path.join(out_dir, 'crossval_summary.json'), json.dumps(result, indent=1) + '\n')
    text = summary_text(result)
    write_text(os.path.join(out_dir, 'crossval_summary.txt'), text)
    logger.info(text + f'summary: {os.path.join(out_dir, "crossval_summary.json")} and .txt')
    return result


def _fold_weights(cfg, run_dir, k):
    """The last checkpoint of fold k of the cross-validation run in run_dir (a DataError when it is missing)."""
    name = os.path.basename(checkpoint_path(cfg, int(cfg.get('epochs', 1)), 'pdparams'))
    path = os.path.join(run_dir, f'fold_{k}', name)
    if not os.path.isfile(path):
        raise DataError(f'{path}: not found: --crossval --test -w {run_dir} tests the last epoch of every fold of a '
                        f'finished cross-validation run of this config')
    return path


def _with_test(cfg, split):
    """cfg with DATASET.test replaced by `split` (the test pipeline reads it)."""
    view_cfg = copy.deepcopy(cfg)
    view_cfg.DATASET.test = copy.deepcopy(split)
    return view_cfg
