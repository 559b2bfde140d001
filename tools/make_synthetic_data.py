"""Write the synthetic figure-skating data set (paddlevideo/loader/synthetic.py) as FSD-style .npy files.

python tools/make_synthetic_data.py --out data/synthetic --train-per-class 60 --test-per-class 20 --seed 0
writes train_data.npy, train_label.npy, test_data.npy, test_label.npy and class_names.txt into --out.
"""
import argparse
import os


import numpy as np

from paddlevideo.loader.synthetic import make_synthetic_skating
from paddlevideo.utils.fileio import atomic_write, write_text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', default='data/synthetic', help='output folder (created if missing)')
    parser.add_argument('--train-per-class', type=int, default=60)
    parser.add_argument('--test-per-class', type=int, default=20)
    parser.add_argument('--max-frames', type=int, default=150, help='T of the arrays; clips are 40..120 frames')
    parser.add_argument('--seed', type=int, default=0, help='train uses 2*seed, test 2*seed+1: disjoint clips')
    args = parser.parse_args(argv)
    if args.seed < 0 or args.train_per_class < 1 or args.test_per_class < 1:
        parser.error('--seed must be >= 0 and --train-per-class, --test-per-class >= 1')
    os.makedirs(args.out, exist_ok=True)
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


if __name__ == '__main__':
    main()
