"""Classification report from logits: top-k, mean class accuracy, per-class accuracy, confusion matrix;
submission.csv for an unlabelled test set. All files are written atomically."""
import csv
import io
import os

import numpy as np

from ..utils.fileio import atomic_write, write_text


def topk_accuracy(logits, labels, k):
    k = min(k, logits.shape[1])
    top = np.argsort(-logits, axis=1, kind='stable')[:, :k]
    return float((top == labels[:, None]).any(axis=1).mean())


def confusion_matrix(pred, labels, num_classes):
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (labels, pred), 1)
    return cm


def classification_report(logits, labels, num_classes, top_k=5):
    """top1, top<k> (METRIC.top_k), mean class accuracy, and per class: accuracy (= recall), precision, F1,
    support; the confusion matrix (rows: true class)."""
    pred = logits.argmax(axis=1)
    cm = confusion_matrix(pred, labels, num_classes)
    support, predicted, hits = cm.sum(axis=1), cm.sum(axis=0), np.diag(cm)
    per_class = np.where(support > 0, hits / np.maximum(support, 1), np.nan)
    precision = np.where(predicted > 0, hits / np.maximum(predicted, 1), np.nan)
    f1 = np.where(support + predicted > 0, 2 * hits / np.maximum(support + predicted, 1), np.nan)
    return {'top1': topk_accuracy(logits, labels, 1), 'top_k': top_k,
            f'top{top_k}': topk_accuracy(logits, labels, top_k),
            'mean_class_accuracy': float(np.nanmean(per_class)), 'per_class_accuracy': per_class,
            'precision': precision, 'f1': f1, 'support': support, 'confusion': cm}


def headline(report):
    """'top1: ...  top5: ...  mean_class_accuracy: ...' (top<k> of METRIC.top_k)."""
    k = report['top_k']
    return (f"top1: {report['top1']:.4f}  top{k}: {report[f'top{k}']:.4f}  "
            f"mean_class_accuracy: {report['mean_class_accuracy']:.4f}")


def write_confusion(report, folder, class_names=None):
    """confusion_matrix.csv (rows: true class, columns: predicted) and confusion_matrix.png."""
    cm = report['confusion']
    names = class_names or [str(i) for i in range(len(cm))]
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(['true\\pred'] + names)
    for name, row in zip(names, cm):
        w.writerow([name] + row.tolist())
    write_text(os.path.join(folder, 'confusion_matrix.csv'), buf.getvalue())

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    n = len(cm)
    fig, ax = plt.subplots(figsize=(max(5, 0.35 * n + 2), max(4, 0.35 * n + 1.5)))
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    im = ax.imshow(norm, cmap='Blues', vmin=0, vmax=1)
    ax.set_xticks(range(n), names, rotation=90, fontsize=7)
    ax.set_yticks(range(n), names, fontsize=7)
    ax.set_xlabel('predicted')
    ax.set_ylabel('true')
    ax.set_title(f"top-1 {report['top1']:.2%}, mean class {report['mean_class_accuracy']:.2%}")
    if n <= 40:  # the counts, where the cells are big enough to read them
        for (i, j), count in np.ndenumerate(cm):
            if count:
                ax.text(j, i, str(count), ha='center', va='center', fontsize=7 if n <= 15 else 5,
                        color='white' if norm[i, j] > 0.5 else 'black')
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    atomic_write(os.path.join(folder, 'confusion_matrix.png'), lambda f: fig.savefig(f, format='png', dpi=110))
    plt.close(fig)


def format_report(report, class_names=None):
    """The headline, then one line per class: accuracy (recall), precision, F1 and the number of samples."""
    lines = [headline(report), 'per-class accuracy (recall), precision, F1:']
    rows = zip(report['per_class_accuracy'], report['precision'], report['f1'], report['support'])
    for c, (acc, precision, f1, n) in enumerate(rows):
        name = class_names[c] if class_names else str(c)
        cells = [f'{v:7.2%}' if np.isfinite(v) else '      -' for v in (acc, precision, f1)]
        lines.append(f'  {c:3d} {name:<24s} {cells[0]}  precision {cells[1]}  F1 {cells[2]}  (n={n})')
    return '\n'.join(lines)


def write_submission(path, logits):
    """One row per sample: sample_index,predict_category."""
    rows = ['sample_index,predict_category'] + [f'{i},{int(p)}' for i, p in enumerate(logits.argmax(axis=1))]
    write_text(path, '\n'.join(rows) + '\n')


def write_dump(path, logits, labels=None):
    """logits (N, num_classes, before softmax) and labels, in dataset order, for later score fusion."""
    arrays = {'logits': logits.astype(np.float32)}
    if labels is not None:
        arrays['labels'] = labels.astype(np.int64)
    atomic_write(path, lambda f: np.savez(f, **arrays))
