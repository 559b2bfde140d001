"""Train or test ST-GCN from a PaddleVideo-style YAML.

    python main.py -c configs/recognition/stgcn/stgcn_fsd.yaml [--validate] [-o KEY=VALUE ...]
    python main.py --test -c configs/recognition/stgcn/stgcn_fsd.yaml -w output/STGCN/STGCN_best.pdparams
    python main.py -c ... --nprocs 2        (data parallel in 2 processes, the config's batch split between them)
    python -m paddle.distributed.launch --nproc_per_node 2 main.py -c ...   (the same; batch_size per process)
    python main.py -c ... --crossval [GROUPS.npy]   (cross-validation by group: CROSSVAL in the config)
    python main.py -c ... --crossval --test -w RUN_DIR -o output_dir=NEW   (test that run's folds again)
"""
import argparse
import os
import sys

import paddlevideo  # noqa: F401  (CPU environment before paddle loads)
from paddlevideo.utils.cli import run


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('-c', '--config', required=True, help='YAML config')
    p.add_argument('-o', '--override', action='append', default=[], help='KEY=VALUE, dotted keys, repeatable')
    p.add_argument('--test', action='store_true', help='test the weights given by -w')
    p.add_argument('-w', '--weights', help='weights: to test, or to fine-tune from; with --crossval --test, the '
                                           'cross-validation run (its output_dir) whose folds to test')
    p.add_argument('--validate', action='store_true', help='evaluate every epoch and keep the best checkpoint')
    p.add_argument('--seed', type=int, default=None, help='random seed (default: config seed or 0)')
    p.add_argument('--resume', action='store_true', help='continue from the last complete epoch in output_dir '
                                                         '(its run.json must match this config and seed)')
    p.add_argument('--overwrite', action='store_true', help='train into an output_dir that holds another run, '
                                                            'removing that run\'s log and checkpoints first')
    p.add_argument('--amp', action='store_true', help='mixed precision: float16 on a GPU; on a CPU with AMX, or AMD\'s '
                                                      'AVX512_BF16, the convolutions in bf16, elsewhere float32 '
                                                      '(says so)')
    p.add_argument('--dump', help='with --test: save logits (and labels) in dataset order to this .npz')
    p.add_argument('--nprocs', type=int, default=1, metavar='N',
                   help='train data parallel in N processes (on the CPU: the cores shared among them), '
                        'DATASET.batch_size split among them; the fastest way to train on a multi-core CPU')
    p.add_argument('--auto-scale-lr', action='store_true',
                   help='scale the learning rate by the total batch of a step (all processes) over '
                        'OPTIMIZER.base_batch_size (the linear scaling rule, mmaction2\'s flag)')
    p.add_argument('--crossval', nargs='?', const='', metavar='GROUPS',
                   help='cross-validation by group: train and test one fold per group (or CROSSVAL.folds folds of '
                        'groups) from GROUPS.npy, one integer per training sample (default: CROSSVAL.groups); '
                        'results in output_dir/crossval_summary.json and .txt')
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from paddlevideo.utils import launch
    from paddlevideo.utils.config import get_config
    from paddlevideo.utils.errors import ConfigError
    cfg = get_config(args.config, args.override)
    if args.nprocs != 1 and os.environ.get(launch.MARKER) != str(args.nprocs):
        if args.test:
            raise ConfigError('--nprocs is for training; --test runs in one process')
        cmd, env = launch.launch_command(cfg, args.nprocs, os.path.abspath(__file__),
                                         sys.argv[1:] if argv is None else argv)
        # Open the training set (memory-mapped: cheap) and the weights first: a bad file is then one line before
        # any process starts, not one per process among the launcher's messages.
        from paddlevideo.loader import build_dataset
        from paddlevideo.utils.checkpoint import load_state
        build_dataset(cfg, 'train')
        if args.weights:
            load_state(args.weights)
        launch.become(cmd, env)
    if args.auto_scale_lr and not args.test:
        from paddlevideo.solver.optimizer import auto_scale_lr
        line = auto_scale_lr(cfg, int((cfg.get('DATASET') or {}).get('batch_size', 16)) * launch.world_size())
        if os.environ.get('PADDLE_TRAINER_ID', '0') == '0':
            print(line)
    if args.crossval is not None:
        if args.resume or args.validate:
            raise ConfigError('--crossval trains and tests every fold itself: leave out --resume and --validate')
        if args.test and not (args.weights and os.path.isdir(args.weights)):
            raise ConfigError(f'--crossval --test tests the folds of a cross-validation run: -w its output_dir '
                              f'(a folder holding fold_0, fold_1, ...), got {args.weights}')
        from paddlevideo.tasks.crossval import crossval
        if args.test:
            crossval(cfg, groups_file=args.crossval or None, run_dir=args.weights)
        else:
            crossval(cfg, groups_file=args.crossval or None, weights=args.weights, seed=args.seed)
    elif args.test:
        if not args.weights:
            raise ConfigError('--test needs the weights to test: -w path/to/model.pdparams')
        if launch.under_launch():
            raise ConfigError('--test runs in one process: start it without paddle.distributed.launch')
        if args.dump:
            from paddlevideo.utils.fileio import check_output_file
            test_split = (cfg.get('DATASET') or {}).get('test') or {}
            check_output_file(args.dump, '--dump', reads=[args.config, args.weights, test_split.get('file_path'),
                                                          test_split.get('label_path')])
        from paddlevideo.tasks.test import test_model
        test_model(cfg, args.weights, dump=args.dump)
    else:
        from paddlevideo.tasks.train import train_model
        train_model(cfg, weights=args.weights, validate=args.validate, seed=args.seed, resume=args.resume,
                    amp=args.amp, overwrite=args.overwrite)


if __name__ == '__main__':
    run(main)
