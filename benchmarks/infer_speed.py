"""Inference speed on the FSD shape (2 x 350 x 25 x 1, 30 classes): one JSON line.

Batch-1 latency (ms, median and 90th percentile of --repeat runs) and batch-32 throughput (samples/s) for
the project's default engine (Predictor on the exported .json with every option left alone, as predict.py runs
it; its row names the engine it picked), dygraph (eval, no_grad, as main.py --test runs it), Paddle Inference
with and without oneDNN (and oneDNN bf16 on a CPU with bf16), ONNX Runtime (one session per batch size, as the
Predictor runs it, and one session with a dynamic batch, as before), PaddleVideo's formulation in dygraph
(benchmarks/paddlevideo_reference.py) and, in the spatial pass when torch is installed, the same network in
PyTorch eager (benchmarks/torch_reference.py, in this process, timed last); --backends picks some of them.
Random weights (speed does not depend on them); the model is exported to a temporary folder. <graph>_ratios:
each row's speed-up over PaddleVideo's formulation and PyTorch in the same run. Timings on a shared machine are
noisy: compare rows of one run.

python benchmarks/infer_speed.py [--graph learnable|spatial] [--backends onnxruntime ...] [--threads 2]
    [--repeat 5] [--big_repeat 1]
"""
import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time

BACKENDS = ['default', 'dygraph', 'paddle_inference_onednn', 'paddle_inference_onednn_bf16', 'paddle_inference',
            'onnxruntime', 'onnxruntime_dynamic_batch', 'paddlevideo_reference_dygraph', 'pytorch_reference']


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--graph', choices=['learnable', 'spatial'], action='append',
                        help='graph mode (repeatable; default both)')
    parser.add_argument('--backends', nargs='+', choices=BACKENDS, default=BACKENDS, help='rows to time')
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

from benchmarks.machine import machine  # noqa: E402
from paddlevideo.inference import Predictor, export_model  # noqa: E402
from paddlevideo.modeling import build_model  # noqa: E402
from paddlevideo.tasks.train import eval_logits  # noqa: E402
from paddlevideo.utils.checkpoint import atomic_save  # noqa: E402
from paddlevideo.utils.config import get_config  # noqa: E402
from paddlevideo.utils.runtime import cpu_has_bf16  # noqa: E402

CONFIG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      'configs', 'recognition', 'stgcn', 'stgcn_fsd.yaml')
SHAPE = (2, 350, 25, 1)


def timed(fn, batch, repeat):
    """Seconds of each of `repeat` calls after one warm-up call."""
    fn(batch)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(batch)
        times.append(time.perf_counter() - start)
    return times


def measure(fn, repeat, big_repeat):
    rng = np.random.default_rng(0)
    one = timed(fn, rng.standard_normal((1, *SHAPE)).astype(np.float32), repeat)
    big = timed(fn, rng.standard_normal((32, *SHAPE)).astype(np.float32), big_repeat)
    return {'batch1_ms': round(1000 * float(np.median(one)), 1),
            'batch1_p90_ms': round(1000 * float(np.percentile(one, 90)), 1),
            'batch32_samples_per_s': round(32 / float(np.median(big)), 1)}


def dygraph(model, chunked=True):
    """Eval mode and no_grad; chunked: a CPU batch in chunks, as main.py --test runs it (tasks/train.py
    eval_logits), else in one pass, as PaddleVideo does."""
    model.eval()

    def run(batch):
        with paddle.no_grad():
            return eval_logits(model, paddle.to_tensor(batch)) if chunked else model(paddle.to_tensor(batch)).numpy()
    return run


def rows_for(graph, backends, threads, repeat, big_repeat, folder):
    cfg = get_config(CONFIG, [f'MODEL.backbone.graph={graph}'])
    paddle.seed(0)
    model = build_model(cfg.MODEL)
    weights = os.path.join(folder, f'{graph}.pdparams')
    atomic_save(model.state_dict(), weights)
    out = os.path.join(folder, graph)
    export_model(cfg, weights, out, onnx=True)
    quiet = dict(cpu_threads=threads, batch_size=32, notify=lambda line: None)

    def reference():
        from benchmarks.paddlevideo_reference import ReferenceRecognizer
        return dygraph(ReferenceRecognizer(num_classes=30, in_channels=2, layout='fsd10', graph=graph),
                       chunked=False)
    default = {}

    def default_engine():
        predictor = Predictor(os.path.join(out, 'STGCN.json'), **quiet)
        default['engine'] = f'{predictor.backend}, {predictor.device}'
        return predictor.predict
    engines = {
        'default': default_engine,
        'dygraph': lambda: dygraph(model),
        'paddle_inference_onednn': lambda: Predictor(os.path.join(out, 'STGCN.json'), backend='paddle',
                                                     enable_mkldnn=True, **quiet).predict,
        'paddle_inference': lambda: Predictor(os.path.join(out, 'STGCN.json'), backend='paddle',
                                              enable_mkldnn=False, **quiet).predict,
        'onnxruntime': lambda: Predictor(os.path.join(out, 'STGCN.onnx'), fixed_batch=True, **quiet).predict,
        'onnxruntime_dynamic_batch': lambda: Predictor(os.path.join(out, 'STGCN.onnx'), fixed_batch=False,
                                                       **quiet).predict,
        'paddlevideo_reference_dygraph': reference,
    }
    if cpu_has_bf16():
        engines['paddle_inference_onednn_bf16'] = lambda: Predictor(os.path.join(out, 'STGCN.json'), precision='bf16',
                                                                    **quiet).predict
    if graph == 'spatial' and importlib.util.find_spec('torch'):
        engines['pytorch_reference'] = lambda: pytorch_reference(threads)
    rows = {name: measure(engines[name](), repeat, big_repeat) for name in backends if name in engines}
    if 'default' in rows:
        rows['default'] = {'engine': default['engine'], **rows['default']}
    return rows


def pytorch_reference(threads):
    """PaddleVideo's network (spatial graph, random weights) in PyTorch eager, eval and no_grad."""
    import torch
    from benchmarks.torch_reference import TorchRecognizer
    from paddlevideo.modeling.graph import Graph
    torch.set_num_threads(threads)
    model = TorchRecognizer(Graph(layout='fsd10', strategy='spatial').A, num_classes=30, in_channels=2).eval()

    def run(batch):
        with torch.no_grad():
            return model(torch.from_numpy(batch)).numpy()
    return run


BASELINES = ('paddlevideo_reference_dygraph', 'pytorch_reference')


def ratios(rows):
    """Speed-ups of each of our rows over each baseline row of the same run: {'row/baseline': {batch1, batch32}}."""
    return {f'{name}/{base}': {'batch1': round(rows[base]['batch1_ms'] / rows[name]['batch1_ms'], 2),
                               'batch32': round(rows[name]['batch32_samples_per_s']
                                                / rows[base]['batch32_samples_per_s'], 2)}
            for base in BASELINES if base in rows for name in rows if name not in BASELINES}


def main(args):
    result = {'benchmark': 'infer_speed', 'input': [None, *SHAPE], 'num_classes': 30,
              'machine': machine(),
              'threads': args.threads, 'paddle': paddle.__version__, 'repeat': args.repeat,
              'big_repeat': args.big_repeat}
    with tempfile.TemporaryDirectory() as folder:
        for graph in args.graph or ['learnable', 'spatial']:
            rows = rows_for(graph, args.backends, args.threads, args.repeat, args.big_repeat, folder)
            result[graph] = rows
            result[f'{graph}_fastest_batch1'] = min(rows, key=lambda r: rows[r]['batch1_ms'])
            result[f'{graph}_fastest_batch32'] = max(rows, key=lambda r: rows[r]['batch32_samples_per_s'])
            result[f'{graph}_ratios'] = ratios(rows)
    print(json.dumps(result))


if __name__ == '__main__':
    main(ARGS)
