"""Training curves: the log lines the training loop writes are read back exactly, and drawn."""
import subprocess
import sys

import numpy as np

from conftest import ROOT
from paddlevideo.metrics.curves import parse_log
from paddlevideo.utils.logger import epoch_line, step_line


def test_the_log_lines_are_read_back(tmp_path):
    lines = []
    for epoch in (1, 2):
        for step in (0, 2):
            lines.append(step_line('train', epoch, 2, step, {'loss': 3.0 / epoch - step * 0.1, 'top1': 0.25 * epoch},
                                   lr=0.05 / epoch, batch_cost=2.0, reader_cost=0.01, ips=4.0, eta=100))
        lines.append(epoch_line('train', epoch, {'loss': 2.9 / epoch, 'top1': 0.2 * epoch}, [2.0] * 4, [0.01] * 4, 32))
        lines.append(f'epoch:[{epoch:>3d}/2  ] val top1: {0.3 * epoch:.4f}  top5: 1.0000  '
                     f'mean_class_accuracy: {0.25 * epoch:.4f}')
    log = tmp_path / 'train.log'
    log.write_text(''.join(f'[12/02 03:00:00] {line}\n' for line in lines))
    curves = parse_log(str(log))
    np.testing.assert_allclose(curves['step']['loss'], [(0, 3.0), (0.5, 2.8), (1, 1.5), (1.5, 1.3)])
    np.testing.assert_allclose(curves['step']['lr'], [(0, 0.05), (0.5, 0.05), (1, 0.025), (1.5, 0.025)])
    np.testing.assert_allclose(curves['epoch']['loss'], [(1, 2.9), (2, 1.45)])
    np.testing.assert_allclose(curves['epoch']['top1'], [(1, 0.2), (2, 0.4)])
    np.testing.assert_allclose(curves['val']['mean_class_accuracy'], [(1, 0.25), (2, 0.5)])
    assert 'avg_ips: 4.00000 instance/sec.' in lines[2] and 'eta: 0:01:40' in lines[0]

    out = tmp_path / 'curves.png'
    result = subprocess.run([sys.executable, str(ROOT / 'tools' / 'plot_training.py'), str(log), '-o', str(out)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f'{out}: 2 epochs, 2 validations'
    assert out.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_a_file_without_training_lines_is_one_clear_line(tmp_path):
    log = tmp_path / 'notes.txt'
    log.write_text('hello\n')
    result = subprocess.run([sys.executable, str(ROOT / 'tools' / 'plot_training.py'), str(log)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f'error: {log}: no training lines found (expected lines like "epoch:[  1/90 ] train step:0 ...")')
    assert not (tmp_path / 'train_curves.png').exists()
