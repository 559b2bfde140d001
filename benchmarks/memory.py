"""Peak memory of loading, training and testing on an FSD-30-sized array; prints one JSON line.

    python benchmarks/memory.py --baseline                    # full size; quick check: --samples 64
    python benchmarks/memory.py --samples 64 --train-samples 64 --test-samples 64 --window 50 --baseline

An N x 3 x 1500 x 25 x 1 float32 array (N=2922 is FSD-30's train set, 1.3 GB) is generated chunk by chunk
with np.lib.format.open_memmap: each clip has a random valid length 100..1500 and exact zero padding, x, y
in [-1, 1], confidence in [0, 1], int64 labels 0..29. Each phase runs in its own subprocess, so its peak RSS
(getrusage ru_maxrss; a thread also samples /proc/self/status every 0.1 s) is its own:
- floor: import paddlevideo + paddle and build the model of configs/recognition/stgcn/stgcn_fsd.yaml.
- loader: the training loader (batch 32, the config's workers, no drop_last) over all N samples, no model.
- loader_baseline (--baseline): the same, with the array read into memory by np.load (a naive loader).
- train: paddlevideo.tasks.train.train_model for one epoch on a separate --train-samples array (96 = 3
  steps at --train-batch 32; --with-cp recomputes each block's activations in the backward pass); reader_cost /
  batch_cost come from <output_dir>/train.log, step 0 (warm-up) excluded.
- test: paddlevideo.tasks.test.test_model with the train phase's weights on the full array (or, with
  --test-samples, on a separately generated array of that many clips).
Loader worker processes are reported apart (summed VmRSS; they share the parent's pages, so it over-counts).
"""
import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.machine import machine  # noqa: E402  (no framework import)

CONFIG = REPO / 'configs/recognition/stgcn/stgcn_fsd.yaml'
SHAPE, NUM_CLASSES, LIMIT_MB, BATCH = (3, 1500, 25, 1), 30, 1024, 32


def generate(folder, name, n, seed, chunk=64):
    """Write <name>_data.npy (n x 3 x 1500 x 25 x 1 float32) and <name>_label.npy chunk by chunk."""
    rng = np.random.default_rng(seed)
    data_path, label_path = folder / f'{name}_data.npy', folder / f'{name}_label.npy'
    np.save(label_path, rng.integers(0, NUM_CLASSES, n, dtype=np.int64))
    np.lib.format.open_memmap(data_path, 'w+', np.float32, (n, *SHAPE)).flush()  # header + sparse file
    for start in range(0, n, chunk):
        k = min(chunk, n - start)
        pose = rng.uniform(-0.6, 0.6, (k, 2, 1, SHAPE[2], 1))  # a base pose per clip, jittered over time
        xy = np.clip(pose + rng.normal(0, 0.1, (k, 2, *SHAPE[1:])), -1, 1)
        block = np.concatenate([xy, rng.uniform(0.05, 1, (k, 1, *SHAPE[1:]))], 1).astype(np.float32)
        for clip, length in zip(block, rng.integers(100, SHAPE[1] + 1, k)):
            clip[:, length:] = 0
        out = np.lib.format.open_memmap(data_path, 'r+')  # re-mapped per chunk: written pages leave our RSS
        out[start:start + k] = block
        out.flush()
        del out
    return str(data_path), str(label_path)


def rss_mb(pid='self', keys=('VmRSS', 'RssAnon', 'RssFile')):
    """Fields of /proc/<pid>/status in MB ({} if the process is gone)."""
    try:
        with open(f'/proc/{pid}/status') as f:
            fields = dict(line.split(':', 1) for line in f)
    except OSError:
        return {}
    return {k: int(fields[k].split()[0]) // 1024 for k in keys}


class PeakSampler(threading.Thread):
    """Largest VmRSS / RssAnon / RssFile of this process, and summed VmRSS of its children (loader workers),
    in MB, sampled every 0.1 s while running."""

    def __init__(self):
        super().__init__(daemon=True)
        self.peak = {}
        self.start()

    def run(self):
        while True:
            now = rss_mb()
            children = [c for t in os.listdir('/proc/self/task')
                        for c in open(f'/proc/self/task/{t}/children').read().split()]
            now['workers_VmRSS'] = sum(rss_mb(c).get('VmRSS', 0) for c in children)
            self.peak = {k: max(v, self.peak.get(k, 0)) for k, v in now.items()}
            time.sleep(0.1)


def run_phase(args):
    """Inside a subprocess: run one phase, print its JSON."""
    sys.path.insert(0, str(REPO))
    sampler = PeakSampler()
    import paddlevideo  # noqa: F401  (before paddle)
    from paddlevideo.utils.config import get_config
    cfg = get_config(str(CONFIG), json.loads(args.overrides))
    out, tic = {}, time.time()
    if args.phase == 'floor':
        from paddlevideo.modeling import build_model
        build_model(cfg.MODEL)
    elif args.phase.startswith('loader'):
        from paddlevideo.loader import build_dataset, build_loader
        dataset = build_dataset(cfg, 'train')
        if args.phase == 'loader_baseline':
            dataset.data, dataset._mmap = np.load(cfg.DATASET.train.file_path), None
        out['peak_rss_after_dataset_mb'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        loader, _ = build_loader(dataset, BATCH, int(cfg.DATASET.num_workers), shuffle=True)
        out['samples'] = sum(len(labels) for _, labels in loader)
    elif args.phase == 'train':
        from paddlevideo.tasks.train import train_model
        train_model(cfg)
        log = (Path(cfg.output_dir) / 'train.log').read_text()
        steps = [dict(step=int(s), batch_cost=float(b), reader_cost=float(r)) for s, b, r in re.findall(
            r'train step:(\d+).*?batch_cost: ([\d.]+) sec, reader_cost: ([\d.]+) sec', log)]
        timed = [s for s in steps if s['step'] > 0]
        out['steps'] = steps
        out['reader_batch_ratio'] = (round(sum(s['reader_cost'] for s in timed) /
                                           sum(s['batch_cost'] for s in timed), 5) if timed else None)
    elif args.phase == 'test':
        from paddlevideo.tasks.test import test_model
        out['top1'] = test_model(cfg, args.weights)['top1']
    time.sleep(0.2)  # let the sampler see the final state
    out.update(seconds=round(time.time() - tic, 1), peak_rss_mb=round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), sampled_peak_mb=sampler.peak)
    print(json.dumps(out))


def launch(phase, overrides, env, timeout, weights=None):
    """Run one phase in a fresh interpreter; its last stdout line is its JSON (or an error record)."""
    cmd = [sys.executable, __file__, '--phase', phase, '--overrides', json.dumps(overrides)]
    try:
        proc = subprocess.run(cmd + (['--weights', weights] if weights else []), env=env, cwd=REPO,
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {'error': f'timed out after {timeout} s'}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {'error': f'exit {proc.returncode}: {proc.stderr.strip()[-600:]}'}
    return json.loads(lines[-1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--samples', type=int, default=2922, help='clips in the full array (loader phases)')
    p.add_argument('--train-samples', type=int, default=96, help='clips trained on (batch 32: 3 steps)')
    p.add_argument('--test-samples', type=int, help='clips tested on (default: --samples)')
    p.add_argument('--window', type=int, help='override the config window, for quick checks')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--baseline', action='store_true', help='also run the loader phase with np.load')
    p.add_argument('--train-batch', type=int, default=BATCH, help='batch size of the train phase')
    p.add_argument('--with-cp', action='store_true', help='train with MODEL.backbone.with_cp=True (recompute)')
    p.add_argument('--workdir', help='generate here and keep it (default: a temporary folder, removed)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--timeout', type=int, default=7200, help='seconds allowed per phase')
    p.add_argument('--phase', help=argparse.SUPPRESS)
    p.add_argument('--overrides', help=argparse.SUPPRESS)
    p.add_argument('--weights', help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.phase:
        return run_phase(args)
    test_n = min(args.test_samples or args.samples, args.samples)
    folder = Path(args.workdir or tempfile.mkdtemp(prefix='stgcn_memory_'))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        full = generate(folder, 'full', args.samples, args.seed)
        train = generate(folder, 'train', args.train_samples, args.seed + 1)
        test = full if test_n == args.samples else generate(folder, 'test', test_n, args.seed + 2)
        common = [f'output_dir={folder / "output"}', f'DATASET.batch_size={BATCH}', 'epochs=1', 'log_interval=1']
        if args.window:
            common += [f'{k}={args.window}' for k in ('PIPELINE.train.sample.window_size',
                                                     'PIPELINE.test.sample.window_size', 'INFERENCE.window_size')]
        train_on = lambda d, l: common + [f'DATASET.train.file_path={d}', f'DATASET.train.label_path={l}']
        env = {**os.environ, 'OMP_NUM_THREADS': str(args.threads)}
        phases = {'floor': launch('floor', common, env, args.timeout),
                  'loader': launch('loader', train_on(*full), env, args.timeout)}
        if args.baseline:
            phases['loader_baseline'] = launch('loader_baseline', train_on(*full), env, args.timeout)
        cp = ['MODEL.backbone.with_cp=True'] if args.with_cp else []
        train_batch = [f'DATASET.batch_size={args.train_batch}']
        phases['train'] = launch('train', train_on(*train) + train_batch + cp, env, args.timeout)
        phases['test'] = launch('test', common + [f'DATASET.test.file_path={test[0]}',
                                                  f'DATASET.test.label_path={test[1]}'], env, args.timeout,
                                weights=str(folder / 'output' / 'STGCN_epoch_00001.pdparams'))
    finally:
        if not args.workdir:
            shutil.rmtree(folder, ignore_errors=True)
    window = yaml.safe_load(CONFIG.read_text())['PIPELINE']['train']['sample']['window_size']
    mb = lambda n: round(n * np.prod(SHAPE) * 4 / 2**20, 1)
    ok = lambda name: phases[name].get('peak_rss_mb', LIMIT_MB + 1) < LIMIT_MB if name in phases else None
    ratio = phases['train'].get('reader_batch_ratio')
    print(json.dumps({
        'benchmark': 'memory', 'machine': machine(),
        'threads': args.threads, 'paddle': metadata.version('paddlepaddle'), 'numpy': np.__version__,
        'MALLOC_MMAP_THRESHOLD_': os.environ.get('MALLOC_MMAP_THRESHOLD_'),
        'sizes': {'samples': args.samples, 'train_samples': args.train_samples, 'test_samples': test_n,
                  'frames': SHAPE[1], 'window': args.window or window, 'batch': BATCH,
                  'train_batch': args.train_batch},
        'array_mb': mb(args.samples), 'train_array_mb': mb(args.train_samples), 'limit_mb': LIMIT_MB,
        'train_mode': f'train_model, 1 epoch on a separate {args.train_samples}-clip array '
                      f'(steps of {args.train_batch}: {args.train_samples // args.train_batch}), log_interval=1'
                      + (', with_cp (recompute)' if args.with_cp else ''),
        'phases': phases,
        'pass': {'loader': ok('loader'), 'train': ok('train'), 'test': ok('test'),
                 'reader_cost_under_5pct': None if ratio is None else ratio < 0.05}}))


if __name__ == '__main__':
    main()
