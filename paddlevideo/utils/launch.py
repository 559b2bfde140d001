"""`main.py --nprocs N`: data-parallel training on one machine without typing paddle.distributed.launch.

N processes of one thread each, all-reducing their gradients, train at 0.75-1.17x the speed of one process of
N threads on 2 cores at the FSD shape with the MKL GEMM kernels, and 1.27x at Penn Action's window 48 (1.20-1.57x
at the FSD shape before the kernels, when Paddle's convolutions gained about 1.4x from a second thread and nearly
2x from a second process; benchmarks/train_speed.py --ddp). The config's DATASET.batch_size stays the batch of
one step: each process takes batch_size / N of it, so the learning-rate schedule and the epoch length do not
change with N.
"""
import os
import sys

from .errors import ConfigError
from .runtime import USER_THREADS, available_cores

MARKER = 'PADDLEVIDEO_NPROCS'  # set for the processes --nprocs starts, so they train instead of launching again


def world_size():
    """Processes in this job under paddle.distributed.launch; 1 when this one runs alone."""
    return int(os.environ.get('PADDLE_TRAINERS_NUM', '1'))


def under_launch():
    return world_size() > 1


def launch_command(cfg, nprocs, script, argv):
    """(command, environment) that run `script argv` in `nprocs` processes under paddle.distributed.launch."""
    batch = int(cfg.DATASET.get('batch_size', 16))
    if nprocs < 1 or batch % nprocs:
        raise ConfigError(f'--nprocs {nprocs}: DATASET.batch_size {batch} does not split evenly over {nprocs} '
                          f'processes')
    if under_launch():
        raise ConfigError('--nprocs starts its own processes: run it without paddle.distributed.launch')
    threads = USER_THREADS or str(max(1, available_cores() // nprocs))
    env = dict(os.environ, OMP_NUM_THREADS=threads, **{MARKER: str(nprocs)})
    cmd = [sys.executable, '-m', 'paddle.distributed.launch', '--nproc_per_node', str(nprocs), '--max_restart', '0',
           '--log_level', 'WARNING', '--log_dir', os.path.join(cfg.output_dir, 'workerlog'),
           script, *argv, '-o', f'DATASET.batch_size={batch // nprocs}']
    return cmd, env


def become(cmd, env):
    """Replace this process with `cmd` (the launcher): nothing stays behind holding paddle's memory."""
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(cmd[0], cmd, env)
