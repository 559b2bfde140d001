"""Inference speed on the FSD shape (2 x 350 x 25 x 1, 30 classes): one JSON line.

Batch-1 latency (ms, median of --repeat runs) and batch-32 throughput (samples/s) for dygraph (eval, no_grad),
Paddle Inference with and without oneDNN, ONNX Runtime (one session per batch size, as the Predictor runs it, and
one session with a dynamic batch, as before), and PaddleVideo's formulation in dygraph when
benchmarks/paddlevideo_reference.py is present. Random weights (speed does not depend on them); the model is
exported to a temporary folder. Timings on a shared machine are noisy: compare rows of one run.

python benchmarks/infer_speed.py [--graph learnable|spatial] [--threads 2] [--repeat 5]
"""
import argparse
import json
import os
import platform
import sys
import tempfile
import time



def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--graph', choices=['learnable', 'spatial'], action='append',
                        help='graph mode (repeatable; default both)')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--repeat', type=int, default=5, help='batch-1 runs timed')
    parser.add_argument('--big_repeat', type=int, default=1, help='batch-32 runs timed')
    return parser.parse_args()


ARGS = parse_args()
os.environ['OMP_NUM_THREADS'] = str(ARGS.threads)  # dygraph's math threads; read when paddle is imported
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import paddlevideo  # noqa: E402,F401  (sets the CPU runtime before paddle is imported)
import numpy as np  # noqa: E402
import paddle  # noqa: E402

from paddlevideo.inference import Predictor, export_model  # noqa: E402
from paddlevideo.modeling import build_model  # noqa: E402
from paddlevideo.utils.checkpoint import atomic_save  # noqa: E402
from paddlevideo.utils.config import get_config  # noqa: E402

CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      'configs', 'recognition', 'stgcn', 'stgcn_fsd.yaml')
SHAPE = (2, 350, 25, 1)


def timed(fn, batch, repeat):
    """Median seconds of `repeat` calls after one warm-up call."""
    fn(batch)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(batch)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def measure(fn, repeat, big_repeat):
    rng = np.random.default_rng(0)
    one = rng.standard_normal((1, *SHAPE)).astype(np.float32)
    big = rng.standard_normal((32, *SHAPE)).astype(np.float32)
    return {'batch1_ms': round(1000 * timed(fn, one, repeat), 1),
            'batch32_samples_per_s': round(32 / timed(fn, big, big_repeat), 1)}


def dygraph(model):
    model.eval()

    def run(batch):
        with paddle.no_grad():
            return model(paddle.to_tensor(batch)).numpy()
    return run


def rows_for(graph, threads, repeat, big_repeat, folder):
    cfg = get_config(CONFIG, [f'MODEL.backbone.graph={graph}'])
    paddle.seed(0)
    model = build_model(cfg.MODEL)
    weights = os.path.join(folder, f'{graph}.pdparams')
    atomic_save(model.state_dict(), weights)
    out = os.path.join(folder, graph)
    export_model(cfg, weights, out, onnx=True)
    quiet = dict(cpu_threads=threads, batch_size=32, notify=lambda line: None)
    rows = {'dygraph': measure(dygraph(model), repeat, big_repeat)}
    for name, kw in (('paddle_inference_onednn', dict(enable_mkldnn=True)),
                     ('paddle_inference', dict(enable_mkldnn=False))):
        rows[name] = measure(Predictor(os.path.join(out, 'STGCN.json'), backend='paddle', **kw, **quiet).predict,
                             repeat, big_repeat)
    for name, fixed in (('onnxruntime', True), ('onnxruntime_dynamic_batch', False)):
        rows[name] = measure(Predictor(os.path.join(out, 'STGCN.onnx'), fixed_batch=fixed, **quiet).predict,
                             repeat, big_repeat)
    try:
        from benchmarks.paddlevideo_reference import ReferenceRecognizer
    except ImportError:
        return rows
    reference = ReferenceRecognizer(num_classes=30, in_channels=2, layout='fsd10', graph=graph)
    rows['paddlevideo_reference_dygraph'] = measure(dygraph(reference), repeat, big_repeat)
    return rows


def cpu_model():
    with open('/proc/cpuinfo') as f:
        names = [line.split(':', 1)[1].strip() for line in f if line.startswith('model name')]
    return f'{names[0] if names else platform.machine()}, {os.cpu_count()} cores'


def main(args):
    result = {'benchmark': 'infer_speed', 'input': [None, *SHAPE], 'num_classes': 30,
              'machine': cpu_model(),
              'threads': args.threads, 'paddle': paddle.__version__, 'repeat': args.repeat,
              'big_repeat': args.big_repeat}
    with tempfile.TemporaryDirectory() as folder:
        for graph in args.graph or ['learnable', 'spatial']:
            rows = rows_for(graph, args.threads, args.repeat, args.big_repeat, folder)
            result[graph] = rows
            result[f'{graph}_fastest_batch1'] = min(rows, key=lambda r: rows[r]['batch1_ms'])
            result[f'{graph}_fastest_batch32'] = max(rows, key=lambda r: rows[r]['batch32_samples_per_s'])
    print(json.dumps(result))


if __name__ == '__main__':
    main(ARGS)
