"""The GEMMs of one ST-GCN training step, replayed through each GEMM routine Paddle's wheel ships; one JSON line.

A worker per thread count (OMP_NUM_THREADS set before paddle is imported) runs one training step of our STGCN
(`learnable`, batch --batch, the FSD shape by default) and records every GEMM its kernels call
(paddlevideo/modeling/backbones/cpu_gemm.py): shape, transposes, leading dimensions, beta, and the kernel that
called it. It then replays that list, call for call, through MKL's cblas_sgemm, oneDNN's dnnl_sgemm and
oneDNN's dnnl_gemm_bf16bf16f32 (bf16 operands, fp32 accumulation and output) on buffers of the recorded sizes,
and times the rounding to bf16 of every operand the bf16 path rounds (cpu_gemm's Gemm.operand: oneDNN's reorder;
paddle.cast beside it), which the bf16 GEMMs need on top. Seconds per step are the median of --repeat replays;
GFLOP/s count 2 m n k per call.
"""
import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.machine import machine  # noqa: E402  (no framework import)

ROUTINES = {'mkl_sgemm': 'MKL_SGEMM', 'dnnl_sgemm': 'DNNL_SGEMM', 'dnnl_bf16': 'BF16_GEMM'}


def record_step(batch, window, channels):
    """(calls, operand sizes) of one fp32 training step: calls as (kernel, m, n, k, lda, ldb, ldc, trans_a,
    trans_b, beta), operand sizes as the element count of every tensor passed to Gemm.operand."""
    import paddle
    import paddle.nn.functional as F
    from paddlevideo.modeling import build_model
    from paddlevideo.modeling.backbones import cpu_gemm

    calls, operands = [], []
    call, operand = cpu_gemm.Gemm.__call__, cpu_gemm.Gemm.operand

    def recorded_call(self, m, n, k, a, lda, b, ldb, c, ldc, trans_a=False, trans_b=False, beta=0.0):
        caller = sys._getframe(1).f_code.co_qualname
        calls.append((caller, m, n, k, lda, ldb, ldc, trans_a, trans_b, beta))
        return call(self, m, n, k, a, lda, b, ldb, c, ldc, trans_a, trans_b, beta)

    def recorded_operand(self, tensor):
        operands.append(int(tensor.numel()))
        return operand(self, tensor)
    cpu_gemm.Gemm.__call__, cpu_gemm.Gemm.operand = recorded_call, recorded_operand
    try:
        paddle.seed(0)
        model = build_model({'framework': 'RecognizerGCN',
                             'backbone': {'name': 'STGCN', 'graph': 'learnable', 'in_channels': channels,
                                          'layout': 'fsd10'},
                             'head': {'name': 'STGCNHead', 'num_classes': 30}})
        model.train()
        x = paddle.randn([batch, channels, window, 25, 1])
        F.cross_entropy(model(x), paddle.randint(0, 30, [batch])).backward()
    finally:
        cpu_gemm.Gemm.__call__, cpu_gemm.Gemm.operand = call, operand
    return calls, operands


def replay(gemm, calls, repeat):
    """Median seconds of all `calls` through `gemm`, and the seconds of each kernel's calls in that replay."""
    import numpy as np
    sizes = collections.defaultdict(int)  # elements each operand / output buffer needs, the largest call's
    for _, m, n, k, lda, ldb, ldc, trans_a, trans_b, _ in calls:
        sizes['a'] = max(sizes['a'], (k if trans_a else m) * lda)
        sizes['b'] = max(sizes['b'], (n if trans_b else k) * ldb)
        sizes['c'] = max(sizes['c'], m * ldc)
    rng = np.random.default_rng(0)
    a, b = (rng.integers(0x3c00, 0x3f80, sizes[x]).astype(np.uint16) if gemm.size == 2  # bf16 values in [0.008, 1)
            else rng.random(sizes[x], dtype=np.float32) for x in 'ab')
    c = np.zeros(sizes['c'], np.float32)
    pa, pb, pc = a.ctypes.data, b.ctypes.data, c.ctypes.data
    totals, per_kernel = [], []
    for _ in range(repeat + 1):  # the first replay warms up
        kernels = collections.defaultdict(float)
        for kernel, m, n, k, lda, ldb, ldc, trans_a, trans_b, beta in calls:
            start = time.perf_counter()
            gemm(m, n, k, pa, lda, pb, ldb, pc, ldc, trans_a, trans_b, beta)
            kernels[kernel] += time.perf_counter() - start
        totals.append(sum(kernels.values()))
        per_kernel.append(kernels)
    best = sorted(range(1, repeat + 1), key=lambda i: totals[i])[repeat // 2]
    return totals[best], per_kernel[best]


def time_rounding(operands, repeat, round_bf16):
    """Median seconds of round_bf16 (fp32 -> bf16) of a fresh fp32 tensor of each recorded operand size."""
    import paddle
    counts = collections.Counter(operands)
    tensors = {size: paddle.rand([size]) for size in counts}
    totals = []
    for _ in range(repeat + 1):
        total = 0.0
        for size, count in counts.items():
            for _ in range(count):
                start = time.perf_counter()
                round_bf16(tensors[size])
                total += time.perf_counter() - start
        totals.append(total)
    return statistics.median(totals[1:])


def run_worker(args):
    import paddlevideo  # noqa: F401  (before paddle: the CPU runtime)
    from paddlevideo.modeling.backbones import cpu_gemm
    from paddlevideo.utils.runtime import cpu_has_bf16
    calls, operands = record_step(args.batch, args.window, args.channels)
    flop = sum(2 * m * n * k for _, m, n, k, *_ in calls)
    out = {'calls': len(calls), 'distinct_shapes': len({c[1:] for c in calls}), 'gflop_per_step': round(flop / 1e9, 1),
           'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS')}
    for name, attr in ROUTINES.items():
        gemm = getattr(cpu_gemm, attr)
        if gemm is None:
            out[name] = {'error': f'{attr} not found in this paddle wheel'}
            continue
        if gemm.size == 2 and not cpu_has_bf16():  # bf16 there is oneDNN's reference loops: minutes a step
            out[name] = {'error': 'this CPU has no bf16 instructions (avx512_bf16, amx_bf16)'}
            continue
        seconds, kernels = replay(gemm, calls, args.repeat)
        out[name] = {'s_per_step': round(seconds, 3), 'gflop_per_s': round(flop / seconds / 1e9, 1),
                     'by_kernel_s': {k: round(v, 3) for k, v in sorted(kernels.items())}}
    if 's_per_step' in out['dnnl_bf16']:  # the kernels' rounding (oneDNN's reorder) against paddle.cast's
        import paddle
        out['bf16_rounding'] = {'operands': len(operands), 'melements': round(sum(operands) / 1e6, 1)} | {
            name: round(time_rounding(operands, args.repeat, fn), 3) for name, fn in (
                ('onednn_reorder_s', cpu_gemm.BF16_GEMM.operand),
                ('paddle_cast_s', lambda t: paddle.cast(t, 'bfloat16')))}
    print(json.dumps(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch', type=int, default=8)
    parser.add_argument('--window', type=int, default=350)
    parser.add_argument('--channels', type=int, default=2)
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--repeat', type=int, default=3, help='timed replays (after one untimed)')
    parser.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return run_worker(args)
    results, load = {}, os.getloadavg()[0]
    for threads in args.threads:
        env = {**os.environ, 'OMP_NUM_THREADS': str(threads)}
        cmd = [sys.executable, str(Path(__file__).resolve()), '--worker', '--batch', str(args.batch), '--window',
               str(args.window), '--channels', str(args.channels), '--repeat', str(args.repeat)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
        lines = proc.stdout.strip().splitlines()
        results[str(threads)] = (json.loads(lines[-1]) if proc.returncode == 0 and lines
                                 else {'error': f'exit {proc.returncode}: {proc.stderr.strip()[-500:]}'})
    ratios = {}
    for threads, r in results.items():
        seconds = {name: r[name]['s_per_step'] for name in ROUTINES if 's_per_step' in r.get(name, {})}
        if 'mkl_sgemm' in seconds:
            ratios[threads] = {f'mkl_sgemm/{name}': round(seconds['mkl_sgemm'] / s, 2)
                               for name, s in seconds.items() if name != 'mkl_sgemm'}
            if 'dnnl_bf16' in seconds:
                rounding = r['bf16_rounding']  # measured wherever the bf16 GEMM is
                rounded = seconds['dnnl_bf16'] + rounding['onednn_reorder_s']
                ratios[threads]['mkl_sgemm/(dnnl_bf16 + rounding)'] = round(seconds['mkl_sgemm'] / rounded, 2)
                ratios[threads]['paddle_cast/onednn_reorder'] = round(
                    rounding['paddle_cast_s'] / rounding['onednn_reorder_s'], 2)
    print(json.dumps({'benchmark': 'gemm_speed', 'machine': machine(), 'paddle': metadata.version('paddlepaddle'),
                      'load_avg_1min': [round(load, 2), round(os.getloadavg()[0], 2)], 'batch': args.batch,
                      'window': args.window, 'channels': args.channels, 'repeat': args.repeat, 'results': results,
                      'ratios': ratios}))


if __name__ == '__main__':
    main()
