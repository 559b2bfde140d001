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


def classification_report(logits, labels, num_classes):
    pred = logits.argmax(axis=1)
    cm = confusion_matrix(pred, labels, num_classes)
    support = cm.sum(axis=1)
    per_class = np.where(support > 0, np.diag(cm) / np.maximum(support, 1), np.nan)
    return dict(top1=topk_accuracy(logits, labels, 1), top5=topk_accuracy(logits, labels, 5),
                mean_class_accuracy=float(np.nanmean(per_class)), per_class_accuracy=per_class,
                support=support, confusion=cm)


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
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    atomic_write(os.path.join(folder, 'confusion_matrix.png'), lambda f: fig.savefig(f, format='png', dpi=110))
    plt.close(fig)


def format_report(report, class_names=None):
    lines = [f"top1: {report['top1']:.4f}  top5: {report['top5']:.4f}  "
             f"mean_class_accuracy: {report['mean_class_accuracy']:.4f}", 'per-class accuracy:']
    for c, (acc, n) in enumerate(zip(report['per_class_accuracy'], report['support'])):
        name = class_names[c] if class_names else str(c)
        lines.append(f'  {c:3d} {name:<24s} {acc:7.2%}  (n={n})' if n else f'  {c:3d} {name:<24s}     -    (n=0)')
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
