"""The test loop main.py calls: logits over the test set -> report, confusion matrix, submission, dump."""
import os

from ..loader import build_dataset, build_loader, class_names, metric_top_k, num_classes
from ..metrics import classification_report, format_report, write_confusion, write_dump, write_submission
from ..modeling import build_model
from ..utils.checkpoint import load_weights
from ..utils.logger import get_logger
from .train import evaluate


def test_model(cfg, weights, dump=None):
    """Evaluate `weights` on DATASET.test; returns the report dict (None for an unlabelled set)."""
    logger = get_logger(cfg.output_dir, level=cfg.get('log_level', 'INFO'))
    ds_cfg = cfg.get('DATASET') or {}
    dataset = build_dataset(cfg, 'test')
    loader, _ = build_loader(dataset, int(ds_cfg.get('test_batch_size', 32)),
                             int(ds_cfg.get('test_num_workers', 0)))
    model = load_weights(build_model(cfg.MODEL), weights)
    logits, labels = evaluate(model, loader)
    if dump:
        write_dump(dump, logits, None if dataset.labels is None else labels)
        logger.info(f'logits of {len(logits)} samples saved to {dump}')
    if dataset.labels is None:
        out_file = (cfg.get('METRIC') or {}).get('out_file', 'submission.csv')
        path = out_file if os.path.isabs(out_file) else os.path.join(cfg.output_dir, out_file)
        write_submission(path, logits)
        logger.info(f'unlabelled test set: predictions for {len(logits)} samples written to {path}')
        return None
    n = num_classes(cfg)
    names = class_names(cfg)
    report = classification_report(logits, labels, n, metric_top_k(cfg))
    write_confusion(report, cfg.output_dir, names)
    logger.info(f'test on {len(labels)} samples of {ds_cfg.test.file_path}\n' + format_report(report, names))
    logger.info(f"confusion matrix: {os.path.join(cfg.output_dir, 'confusion_matrix.csv')} and .png")
    return report
