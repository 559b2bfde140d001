"""One rank of the data-parallel timing in train_speed.py --ddp; run it under paddle.distributed.launch.

Each rank trains our STGCN (--graph learnable or spatial) wrapped in paddle.DataParallel on
global_batch / world_size samples per step (gradients all-reduced by gloo on CPU); rank 0 writes the step
times to --out as JSON.
"""
import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
import paddlevideo  # noqa: E402,F401  (before paddle)
import paddle  # noqa: E402
import paddle.distributed as dist  # noqa: E402

from benchmarks.train_speed import build, time_steps  # noqa: E402
from paddlevideo.utils.runtime import set_malloc_policy  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--global-batch', type=int, required=True)
    parser.add_argument('--graph', choices=['learnable', 'spatial'], default='learnable')
    parser.add_argument('--window', type=int, default=350)
    parser.add_argument('--channels', type=int, default=2)
    parser.add_argument('--iters', type=int, default=5)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--out', required=True)
    args = parser.parse_args()
    set_malloc_policy(keep_freed=True)  # as train_model does
    dist.init_parallel_env()
    world = dist.get_world_size()
    if args.global_batch % world:
        raise SystemExit(f'global batch {args.global_batch} does not split over {world} processes')
    model = paddle.DataParallel(build(args.graph, args.channels))
    times = time_steps(model, args.global_batch // world, args.window, args.channels, args.iters, args.warmup)
    dist.barrier()
    if dist.get_rank() == 0:
        Path(args.out).write_text(json.dumps({'step_s': [round(t, 3) for t in times], 'world_size': world}))


if __name__ == '__main__':
    main()
