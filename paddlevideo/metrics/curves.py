"""Training curves from a train.log: loss, top-1 and learning rate per step and per epoch, validation accuracy.

Reads the log lines the training loop writes (PaddleVideo's format), so any train.log, an interrupted or resumed
run's included, can be drawn again (tools/plot_training.py).
"""
import os
import re

import numpy as np

from ..utils.errors import DataError
from ..utils.fileio import atomic_write

_STEP = re.compile(r'epoch:\[\s*(\d+)/\s*(\d+)\s*\] train step:(\d+)\s+(.*)')
_END = re.compile(r'END epoch:(\d+)\s+train\s+(.*)')
_VAL = re.compile(r'epoch:\[\s*(\d+)/\s*(\d+)\s*\] val (.*)')
_PAIR = re.compile(r'([A-Za-z_0-9]+): (-?[0-9.]+(?:e-?\d+)?)')


def _pairs(text):
    return {k: float(v) for k, v in _PAIR.findall(text)}


def parse_log(path):
    """{'step': {name: [(epoch position, value)]}, 'epoch': {name: [(epoch, value)]}, 'val': {...}} from a log."""
    if not os.path.isfile(path):
        raise DataError(f'training log not found: {path}')
    steps, epochs, val = [], {}, {}
    with open(path, encoding='utf-8', errors='replace') as f:
        for line in f:
            if m := _END.search(line):
                epochs[int(m.group(1))] = _pairs(m.group(2))
            elif m := _STEP.search(line):
                steps.append((int(m.group(1)), int(m.group(3)), _pairs(m.group(4))))
            elif m := _VAL.search(line):
                val[int(m.group(1))] = _pairs(m.group(3))
    if not steps and not epochs:
        raise DataError(f'{path}: no training lines found (expected lines like "epoch:[  1/90 ] train step:0 ...")')
    curves = {'step': {}, 'epoch': {}, 'val': {}}
    for epoch, step, pairs in steps:
        summary = epochs.get(epoch, {})
        per_epoch = (round(summary['batch_cost_sum'] / summary['avg_batch_cost'])
                     if summary.get('avg_batch_cost') else max(s for e, s, _ in steps if e == epoch) + 1)
        for k, v in pairs.items():
            curves['step'].setdefault(k, []).append((epoch - 1 + step / max(per_epoch, 1), v))
    for epoch, pairs in sorted(epochs.items()):
        for k, v in pairs.items():
            if k.endswith('_avg'):
                curves['epoch'].setdefault(k[:-4], []).append((epoch, v))
    for epoch, pairs in sorted(val.items()):
        for k, v in pairs.items():
            curves['val'].setdefault(k, []).append((epoch, v))
    return curves


def plot_curves(curves, out_path, title=''):
    """Loss, accuracy and learning rate against epochs, as one PNG (written atomically)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    panels = [('loss', [('step', 'loss', 'train (steps)', 0.35), ('epoch', 'loss', 'train (epoch mean)', 1)]),
              ('accuracy', [('epoch', 'top1', 'train top-1', 1), ('val', 'top1', 'validation top-1', 1),
                            ('val', 'mean_class_accuracy', 'validation mean class', 1)]),
              ('learning rate', [('step', 'lr', 'lr', 1)])]
    for ax, (name, series) in zip(axes, panels):
        for kind, key, label, alpha in series:
            points = np.array(curves[kind].get(key, []), dtype=float).reshape(-1, 2)
            if len(points):
                ax.plot(points[:, 0], points[:, 1], '-' if kind == 'step' or len(points) > 1 else 'o',
                        label=label, alpha=alpha)
        ax.set_title(name)
        ax.set_xlabel('epoch')
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    atomic_write(out_path, lambda f: fig.savefig(f, format='png', dpi=100))
    plt.close(fig)
