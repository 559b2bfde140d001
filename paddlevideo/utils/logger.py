"""PaddleVideo-style log lines on stdout (and <output_dir>/<model_name>.log)."""
import contextlib
import logging
import os
import sys


def get_logger(output_dir=None, name='paddlevideo', level='INFO'):
    """A logger writing plain lines to stdout and, if output_dir is given, to a log file there; `level` is the
    config's log_level."""
    logger = logging.getLogger(name)
    logger.setLevel(str(level).upper())
    logger.propagate = False
    for h in list(logger.handlers):
        logger.removeHandler(h)
        h.close()
    fmt = logging.Formatter('[%(asctime)s] %(message)s', '%m/%d %H:%M:%S')
    handlers = [logging.StreamHandler(sys.stdout)]
    if output_dir:
        os.makedirs(output_dir, exist_ok=True)
        handlers.append(logging.FileHandler(os.path.join(output_dir, 'train.log')))
    for h in handlers:
        h.setFormatter(fmt)
        logger.addHandler(h)
    return logger


def step_line(mode, epoch, epochs, step, metrics, lr=None, batch_cost=None, reader_cost=None, ips=None):
    """`epoch:[  1/90 ] train step:10   loss: 2.3021 lr: 0.050000 top1: 0.1250 top5: 0.5000 batch_cost: ...`"""
    parts = [f'epoch:[{epoch:>3d}/{epochs:<3d}]', f'{mode} step:{step:<4d}']
    parts += [f'{k}: {v:.5f}' for k, v in metrics.items()]
    if lr is not None:
        parts.append(f'lr: {lr:.6f}')
    if batch_cost is not None:
        parts.append(f'batch_cost: {batch_cost:.5f} sec, reader_cost: {reader_cost:.5f} sec, ips: {ips:.5f} '
                     'instance/sec.')
    return ' '.join(parts)


@contextlib.contextmanager
def native_stdout_to_stderr():
    """Send what native libraries print to stdout meanwhile (paddle2onnx's progress, Paddle Inference's oneDNN
    notes) to stderr, so a tool's stdout carries only its own output (the benchmarks' one JSON line)."""
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
