"""PaddleVideo-style log lines on stdout (and <output_dir>/<model_name>.log)."""
import contextlib
import datetime
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


def step_line(mode, epoch, epochs, step, metrics, lr=None, batch_cost=None, reader_cost=None, ips=None, eta=None):
    """PaddleVideo's step line: `epoch:[  1/90 ] train step:10   loss: 2.30210 top1: 0.12500 top5: 0.50000 lr:
    0.050000 batch_cost: 3.1 sec, reader_cost: 0.0 sec, ips: 2.6 instance/sec, eta: 1:23:45` (eta in seconds)."""
    parts = [f'epoch:[{epoch:>3d}/{epochs:<3d}]', f'{mode} step:{step:<4d}']
    parts += [f'{k}: {v:.5f}' for k, v in metrics.items()]
    if lr is not None:
        parts.append(f'lr: {lr:.6f}')
    if batch_cost is not None:
        parts.append(f'batch_cost: {batch_cost:.5f} sec, reader_cost: {reader_cost:.5f} sec, ips: {ips:.5f} '
                     f'instance/sec' + (f', eta: {datetime.timedelta(seconds=int(eta))}' if eta is not None else '.'))
    return ' '.join(parts)


def epoch_line(mode, epoch, averages, batch_costs, reader_costs, samples):
    """PaddleVideo's epoch summary: `END epoch:1   train loss_avg: 2.30210 top1_avg: 0.12500 top5_avg: 0.50000
    avg_batch_cost: 3.1 sec, avg_reader_cost: 0.0 sec, batch_cost_sum: 310.0 sec, avg_ips: 2.6 instance/sec.`"""
    metrics = ' '.join(f'{k}_avg: {v:.5f}' for k, v in averages.items())
    total = sum(batch_costs)
    return (f'END epoch:{epoch:<3d} {mode} {metrics} avg_batch_cost: {total / len(batch_costs):.5f} sec, '
            f'avg_reader_cost: {sum(reader_costs) / len(reader_costs):.5f} sec, batch_cost_sum: {total:.5f} sec, '
            f'avg_ips: {samples / total:.5f} instance/sec.')


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
