"""Training throughput of our ST-GCN against PaddleVideo's formulation; prints one JSON line.

Each configuration (model x runtime x batch size) runs in its own subprocess, so memory starts clean and the
thread count is set before paddle is imported. A step is forward + cross entropy + backward + Momentum
(momentum 0.9, L2 1e-4) on random inputs of shape (batch, channels, window, 25, 1) (the FSD-30 shape by
default; values do not change the work done). Throughput is batch / median step time.

Configurations:
- ours_learnable, ours_spatial: paddlevideo's STGCN, under our runtime (``import paddlevideo`` first, which
  sets MKL_DEBUG_CPU_TYPE=5 on AMD and OMP_NUM_THREADS; then glibc keeps freed memory for reuse, as
  train_model sets it: paddlevideo/utils/runtime.py set_malloc_policy).
- ours_learnable_cp (only when named in --configs): the same with with_cp=True (recompute, for memory), and
  glibc returning freed memory, as train_model does for with_cp.
- ours_learnable_glibc_malloc (only when named): ours_learnable with glibc's default malloc behaviour.
- ours_learnable_paddle_ops (only when named): the same model on Paddle's own conv2d / matmul operators instead
  of the GEMM kernels of paddlevideo/modeling/backbones/cpu_gemm.py.
- ours_learnable_mkl_sgemm, ours_learnable_dnnl_sgemm (only when named): those kernels on MKL's cblas_sgemm, or
  on oneDNN's dnnl_sgemm (ours_learnable runs the one cpu_gemm.SGEMM picks here: oneDNN's on AMD, else MKL's).
- ours_learnable_bf16 (only when named): the step under cpu_gemm.bf16_autocast(), as ``main.py --amp`` runs it
  where it runs bf16 (the kernels' GEMMs on bf16 operands, everything else fp32).
- reference_stock: benchmarks/paddlevideo_reference.py (PaddleVideo's formulation) under Paddle's stock
  runtime: paddle imported first, no MKL_DEBUG_CPU_TYPE, PADDLEVIDEO_NO_CPU_TUNING=1, OMP_NUM_THREADS=threads.
- reference_ours: the same model under our runtime, so ours / reference_ours isolates the formulation and
  ours / reference_stock is the end-to-end gain.
- torch_reference (only when named in --configs; needs ``pip install torch``): the same network in PyTorch
  eager (benchmarks/torch_reference.py, SGD with the same momentum and L2), torch.set_num_threads(threads).
- torch_reference_bf16 (only when named): the same with the forward under torch.autocast('cpu', bfloat16).

GFLOP/s counts the FLOPs of PaddleVideo's formulation (convolutions, graph matmuls and the head; 2 x MACs,
training = 3 x forward) for every configuration, as a common yardstick. ``--ddp`` adds each of our models
named in --configs trained with paddle.DataParallel by 2 processes x 1 thread (benchmarks/ddp_train_worker.py,
gloo on CPU; what ``main.py --nprocs 2`` runs) at the same global batch.
"""
import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from benchmarks.machine import machine  # noqa: E402  (no framework import)
from benchmarks.stgcn_plan import PLAN, TEMPORAL_KERNEL  # noqa: E402  (no framework import)

CONFIGS = {  # name: (model, runtime)
    'ours_learnable': ('learnable', 'ours'),
    'ours_spatial': ('spatial', 'ours'),
    'ours_learnable_cp': ('learnable+cp', 'ours'),
    'ours_learnable_paddle_ops': ('learnable+paddle_ops', 'ours'),
    'ours_learnable_mkl_sgemm': ('learnable+mkl_sgemm', 'ours'),
    'ours_learnable_dnnl_sgemm': ('learnable+dnnl_sgemm', 'ours'),
    'ours_learnable_bf16': ('learnable+bf16', 'ours'),
    'ours_learnable_glibc_malloc': ('learnable', 'ours_glibc'),
    'reference_stock': ('reference', 'stock'),
    'reference_ours': ('reference', 'ours'),
    'torch_reference': ('reference', 'torch'),
    'torch_reference_bf16': ('reference', 'torch_bf16'),
}
KERNEL_VARIANTS = ('paddle_ops', 'mkl_sgemm', 'dnnl_sgemm', 'bf16')  # model suffixes: which GEMMs cpu_gemm runs
NUM_JOINTS = 25
NUM_CLASSES = 30


def macs_per_sample(window, channels, V, num_classes, num_subsets=3):
    """Multiply-accumulates of one forward pass of PaddleVideo's ST-GCN on one (channels, window, V, 1) sample."""
    macs, t = 0, window
    for cin, cout, stride, residual in PLAN:
        cin = cin or channels
        t_out = (t - 1) // stride + 1                          # 'same' padding, stride on time
        macs += t * V * cin * num_subsets * cout               # gcn.conv, 1x1 to K*out channels
        macs += t * cout * num_subsets * V * V                 # (N, C, T, K*V) @ (K*V, V)
        macs += t_out * V * cout * cout * TEMPORAL_KERNEL      # tcn conv (9, 1)
        if residual and (cin != cout or stride != 1):
            macs += t_out * V * cin * cout                     # residual 1x1 conv
        t = t_out
    return macs + PLAN[-1][1] * num_classes                    # head.fcn


def worker_env(runtime, threads):
    """Environment for a worker: stock Paddle, or ours (paddlevideo sets the MKL path itself)."""
    env = {k: v for k, v in os.environ.items() if k not in ('MKL_DEBUG_CPU_TYPE', 'PADDLEVIDEO_NO_CPU_TUNING')}
    env['OMP_NUM_THREADS'] = str(threads)
    if runtime == 'stock':
        env['PADDLEVIDEO_NO_CPU_TUNING'] = '1'
    return env


def time_loop(step, iters, warmup):
    """Seconds of each of `iters` calls of `step` after `warmup` untimed ones."""
    times = []
    for i in range(warmup + iters):
        start = time.perf_counter()
        step()
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def time_steps(model, batch, window, channels, iters, warmup, context=contextlib.nullcontext):
    """Seconds of each timed training step of ``model``, its forward inside ``context()``; call after the
    runtime is set and paddle imported."""
    import paddle
    import paddle.nn.functional as F
    paddle.seed(0)
    x = paddle.randn([batch, channels, window, NUM_JOINTS, 1])
    y = paddle.randint(0, NUM_CLASSES, [batch])
    opt = paddle.optimizer.Momentum(0.01, momentum=0.9, parameters=model.parameters(),
                                    weight_decay=paddle.regularizer.L2Decay(1e-4))
    model.train()

    def step():
        with context():
            logits = model(x)
        F.cross_entropy(logits, y).backward()
        opt.step()
        opt.clear_grad()
    return time_loop(step, iters, warmup)


def build(model_name, channels):
    """'learnable' / 'spatial' (+cp: with_cp): our STGCN recognizer; 'reference': PaddleVideo's formulation."""
    if model_name == 'reference':
        from benchmarks.paddlevideo_reference import ReferenceRecognizer
        return ReferenceRecognizer(num_classes=NUM_CLASSES, in_channels=channels, layout='fsd10', graph='spatial')
    from paddlevideo.modeling import build_model
    return build_model({'framework': 'RecognizerGCN',
                        'backbone': {'name': 'STGCN', 'graph': model_name.removesuffix('+cp'),
                                     'with_cp': model_name.endswith('+cp'), 'in_channels': channels,
                                     'layout': 'fsd10'},
                        'head': {'name': 'STGCNHead', 'num_classes': NUM_CLASSES}})


def run_worker(args):
    """Inside a subprocess: time one configuration and print its JSON."""
    if args.runtime.startswith('torch'):  # no paddle in this process: the adjacency comes from the parent
        import numpy as np
        import torch
        from benchmarks.torch_reference import training_step
        step = training_step(np.load(args.adjacency), args.batch, args.window, args.channels, NUM_CLASSES,
                             args.threads, bf16=args.runtime == 'torch_bf16')
        times = time_loop(step, args.iters, args.warmup)
        return print(json.dumps({'step_s': [round(t, 3) for t in times], 'torch': torch.__version__,
                                 'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS')}))
    malloc = 'glibc default'
    if args.runtime.startswith('ours'):
        import paddlevideo  # noqa: F401  (before paddle)
        from paddlevideo.utils.runtime import set_malloc_policy
        keep = not args.model.endswith('+cp')
        if args.runtime == 'ours' and set_malloc_policy(keep_freed=keep):
            malloc = 'keep freed' if keep else 'return freed'
    import paddle  # noqa: F401  (stock runtime: paddle first, the reference imports paddlevideo's graph later)
    model_name, context, gemm = args.model, contextlib.nullcontext, None
    if model_name != 'reference':
        from paddlevideo.modeling.backbones import cpu_gemm
        variant = next((v for v in KERNEL_VARIANTS if model_name.endswith('+' + v)), None)
        model_name = model_name.removesuffix(f'+{variant}')
        if variant == 'bf16':
            context = cpu_gemm.bf16_autocast
        elif variant:
            cpu_gemm.SGEMM = {'paddle_ops': None, 'mkl_sgemm': cpu_gemm.MKL_SGEMM,
                              'dnnl_sgemm': cpu_gemm.DNNL_SGEMM}[variant]
        gemm = getattr(cpu_gemm.BF16_GEMM if variant == 'bf16' else cpu_gemm.SGEMM, 'name', 'paddle_ops')
    model = build(model_name, args.channels)
    times = time_steps(model, args.batch, args.window, args.channels, args.iters, args.warmup, context)
    env = {k: os.environ.get(k) for k in ('MKL_DEBUG_CPU_TYPE', 'OMP_NUM_THREADS')}
    print(json.dumps({'step_s': [round(t, 3) for t in times], 'malloc': malloc, 'gemm': gemm, **env}))


def launch(cmd, env, timeout):
    """Run a worker command; its last stdout line is its JSON (or an error record)."""
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        return {'error': f'timed out after {timeout} s'}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {'error': f'exit {proc.returncode}: {proc.stderr.strip()[-500:]}'}
    return json.loads(lines[-1])


def summarise(result, batch, flop_per_sample):
    if 'error' in result:
        return result
    step = statistics.median(result['step_s'])
    rate = batch / step
    return {'samples_per_s': round(rate, 3), 'gflop_per_s': round(rate * flop_per_sample / 1e9, 1),
            'step_s': result['step_s']}


def run_ddp(args, graph, batch, flop_per_sample):
    """Our model, paddle.DataParallel on 2 CPU processes x 1 thread, global batch ``batch``."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / 'result.json'
        cmd = [sys.executable, '-m', 'paddle.distributed.launch', '--nproc_per_node', '2', '--log_dir',
               str(Path(tmp) / 'log'), str(REPO / 'benchmarks' / 'ddp_train_worker.py'), '--graph', graph,
               '--global-batch', str(batch), '--window', str(args.window), '--channels', str(args.channels),
               '--iters', str(args.iters), '--warmup', str(args.warmup), '--out', str(out)]
        try:
            proc = subprocess.run(cmd, env=worker_env('ours', 1), capture_output=True, text=True,
                                  timeout=args.timeout, cwd=REPO)
            failure = None if out.exists() else f'exit {proc.returncode}: {proc.stderr.strip()[-300:]}'
        except subprocess.TimeoutExpired:
            failure = f'timed out after {args.timeout} s'
        if failure:
            log = Path(tmp) / 'log' / 'workerlog.0'
            return {'error': failure + (f' | workerlog.0: {log.read_text()[-500:]}' if log.exists() else '')}
        return summarise(json.loads(out.read_text()), batch, flop_per_sample)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[8, 32])
    parser.add_argument('--iters', type=int, default=5, help='timed steps per configuration')
    parser.add_argument('--warmup', type=int, default=2, help='untimed steps first')
    parser.add_argument('--window', type=int, default=350)
    parser.add_argument('--channels', type=int, default=2)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--configs', nargs='+', choices=list(CONFIGS),
                        default=['ours_learnable', 'ours_spatial', 'reference_stock', 'reference_ours'])
    parser.add_argument('--ddp', action='store_true', help='also time 2 processes x 1 thread (DataParallel)')
    parser.add_argument('--timeout', type=int, default=1200, help='seconds allowed per subprocess')
    parser.add_argument('--worker', action='store_true', help=argparse.SUPPRESS)
    parser.add_argument('--model', help=argparse.SUPPRESS)
    parser.add_argument('--runtime', help=argparse.SUPPRESS)
    parser.add_argument('--batch', type=int, help=argparse.SUPPRESS)
    parser.add_argument('--adjacency', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return run_worker(args)

    gmac = macs_per_sample(args.window, args.channels, NUM_JOINTS, NUM_CLASSES) / 1e9
    flop_per_sample = 3 * 2 * gmac * 1e9
    results, runtimes = {}, {}
    tmp = tempfile.TemporaryDirectory()
    adjacency = Path(tmp.name) / 'A.npy'
    if {'torch_reference', 'torch_reference_bf16'} & set(args.configs):  # torch workers do not import paddle
        import numpy as np
        from paddlevideo.modeling.graph import Graph
        np.save(adjacency, Graph(layout='fsd10', strategy='spatial').A)
    for name in args.configs:
        model, runtime = CONFIGS[name]
        results[name] = {}
        for batch in args.batch_sizes:
            cmd = [sys.executable, str(Path(__file__).resolve()), '--worker', '--model', model, '--runtime',
                   runtime, '--batch', str(batch), '--window', str(args.window), '--channels',
                   str(args.channels), '--iters', str(args.iters), '--warmup', str(args.warmup), '--threads',
                   str(args.threads), '--adjacency', str(adjacency)]
            raw = launch(cmd, worker_env(runtime, args.threads), args.timeout)
            if 'error' not in raw:
                runtimes[name] = {k: v for k, v in raw.items() if k != 'step_s'}
            results[name][str(batch)] = summarise(raw, batch, flop_per_sample)
    tmp.cleanup()
    ddp = [name for name in ('ours_learnable', 'ours_spatial') if args.ddp and name in args.configs]
    for name in ddp:
        results[f'{name}_ddp_2x1'] = {str(b): run_ddp(args, CONFIGS[name][0], b, flop_per_sample)
                                      for b in args.batch_sizes}

    def ratio(a, b, batch):
        ra, rb = results.get(a, {}).get(batch, {}), results.get(b, {}).get(batch, {})
        if 'samples_per_s' in ra and 'samples_per_s' in rb:
            return round(ra['samples_per_s'] / rb['samples_per_s'], 2)
        return None

    ours = ['ours_learnable', 'ours_spatial'] + [f'{name}_ddp_2x1' for name in ddp]
    ratios = {f'{a}/{ref}': {str(b): ratio(a, ref, str(b)) for b in args.batch_sizes}
              for a in ours for ref in ('reference_stock', 'reference_ours', 'torch_reference') if ref in results}
    for variant in ('ours_learnable_paddle_ops', 'ours_learnable_glibc_malloc', 'ours_learnable_mkl_sgemm'):
        if variant in results:
            ratios[f'ours_learnable/{variant}'] = {str(b): ratio('ours_learnable', variant, str(b))
                                                   for b in args.batch_sizes}
    for a, b in (('ours_learnable_dnnl_sgemm', 'ours_learnable_mkl_sgemm'),
                 ('ours_learnable_bf16', 'ours_learnable'), ('ours_learnable_bf16', 'torch_reference_bf16'),
                 ('torch_reference_bf16', 'torch_reference')):
        if a in results and b in results:
            ratios[f'{a}/{b}'] = {str(batch): ratio(a, b, str(batch)) for batch in args.batch_sizes}
    for name in ddp:
        ratios[f'{name}_ddp_2x1/{name}'] = {str(b): ratio(f'{name}_ddp_2x1', name, str(b))
                                            for b in args.batch_sizes}
    report = {
        'benchmark': 'train_speed',
        'machine': machine(),
        'paddle': metadata.version('paddlepaddle'),
        'threads': args.threads,
        'window': args.window, 'channels': args.channels, 'joints': NUM_JOINTS, 'num_classes': NUM_CLASSES,
        'iters': args.iters, 'warmup': args.warmup,
        'forward_gmac_per_sample': round(gmac, 3),
        'runtimes': runtimes,
        'results': results,
        'ratios': ratios,
    }
    print(json.dumps(report))


if __name__ == '__main__':
    main()
