"""Write the synthetic figure-skating data set (paddlevideo/loader/synthetic.py) as FSD-style .npy files.

python tools/make_synthetic_data.py --out data/synthetic --train-per-class 60 --test-per-class 20 --seed 0
writes train_data.npy, train_label.npy, test_data.npy, test_label.npy and class_names.txt into --out.
"""
import os

import numpy as np

from paddlevideo.loader.synthetic import make_synthetic_skating
from paddlevideo.utils.cli import ArgumentParser, bounded, run
from paddlevideo.utils.fileio import atomic_write, check_output_file, check_output_folder, write_text

FILES = ('train_data.npy', 'train_label.npy', 'test_data.npy', 'test_label.npy', 'class_names.txt')


def main(argv=None):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/synthetic', help='output folder (created if missing)')
    parser.add_argument('--train-per-class', type=bounded(int, 1), default=60)
    parser.add_argument('--test-per-class', type=bounded(int, 1), default=20)
    parser.add_argument('--max-frames', type=bounded(int, 120), default=150,
                        help='T of the arrays; clips are 40..120 frames')
    parser.add_argument('--seed', type=bounded(int, 0), default=0,
                        help='train uses 2*seed, test 2*seed+1: disjoint clips')
    args = parser.parse_args(argv)
    check_output_folder(args.out, '--out')
    for name in FILES:
        check_output_file(os.path.join(args.out, name), '--out')
    sizes = {}
    for split, per_class, seed in (('train', args.train_per_class, 2 * args.seed),
                                   ('test', args.test_per_class, 2 * args.seed + 1)):
        data, labels, names = make_synthetic_skating(per_class, seed, max_frames=args.max_frames)
        atomic_write(os.path.join(args.out, f'{split}_data.npy'), lambda f: np.save(f, data))
        atomic_write(os.path.join(args.out, f'{split}_label.npy'), lambda f: np.save(f, labels))
        sizes[split] = len(labels)
    write_text(os.path.join(args.out, 'class_names.txt'), '\n'.join(names) + '\n')
    print(f'wrote synthetic skating data to {args.out}: train {sizes["train"]} clips, '
          f'test {sizes["test"]} clips, each {data.shape[1:]} float32 (C, T, V, M), {len(names)} classes: '
          f'{", ".join(names)}, seed {args.seed}')


def cli():
    run(main)


if __name__ == '__main__':
    cli()
