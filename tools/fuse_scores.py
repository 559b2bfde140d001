"""Fuse the test scores of separately trained streams: the weighted sum of their softmax scores (mmaction2).

python tools/fuse_scores.py joint.npz bone.npz                                  (two streams, 1 : 1)
python tools/fuse_scores.py joint.npz joint_motion.npz bone.npz bone_motion.npz --weights 2 1 2 1 \
    [--out fused.npz] [--confusion output/fused] [--class-names class_names.txt] [--top_k 5]

The inputs are `main.py --test --dump` files of the same test set (logits and labels in dataset order); files that
differ in sample count, classes or labels are refused. Prints top-1, top-k and mean class accuracy.
"""
import os

import paddlevideo  # noqa: F401  (CPU environment before paddle loads)
from paddlevideo.loader.builder import read_names
from paddlevideo.metrics import classification_report, format_report, write_confusion
from paddlevideo.metrics.fusion import check_same_samples, fuse_scores, read_dump, write_fused
from paddlevideo.utils.cli import ArgumentParser, bounded, run
from paddlevideo.utils.errors import ConfigError
from paddlevideo.utils.fileio import check_output_file, check_output_folder


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('dumps', nargs='+', help='main.py --test --dump .npz files, one per stream')
    parser.add_argument('--weights', type=bounded(float, 0), nargs='+', default=None,
                        help='one weight per dump (default: all 1); mmaction2: joint : bone = 1 : 1, joint : '
                             'joint-motion : bone : bone-motion = 2 : 1 : 2 : 1')
    parser.add_argument('--out', default=None, help='write the fused scores (and labels) to this .npz')
    parser.add_argument('--confusion', default=None, metavar='FOLDER',
                        help='write confusion_matrix.csv and .png of the fused scores into this folder')
    parser.add_argument('--class-names', default=None, help='class names, one per line, in label order')
    parser.add_argument('--top_k', type=bounded(int, 1), default=5, help='the k of the top-k accuracy beside top-1')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if args.out:
        check_output_file(args.out, '--out', reads=[*args.dumps, args.class_names])
    if args.confusion:
        check_output_folder(args.confusion, '--confusion')
    weights = args.weights or [1.0] * len(args.dumps)
    dumps = [(path, *read_dump(path)) for path in args.dumps]
    check_same_samples(dumps)
    labels = dumps[0][2]
    if labels is None and args.confusion:
        raise ConfigError('--confusion needs labelled dumps: these hold no labels')
    scores = fuse_scores([logits for _, logits, _ in dumps], weights)
    names = None
    if args.class_names:
        names = read_names(args.class_names, scores.shape[1])
    print(f"fused {len(args.dumps)} streams, weights {' : '.join(f'{w:g}' for w in weights)}, "
          f'{len(scores)} samples')
    if labels is None:
        print('the dumps hold no labels: no accuracy to report')
    else:
        report = classification_report(scores, labels, scores.shape[1], args.top_k)
        print(format_report(report, names))
        if args.confusion:
            os.makedirs(args.confusion, exist_ok=True)
            write_confusion(report, args.confusion, names)
            print(f'confusion matrix: {os.path.join(args.confusion, "confusion_matrix.csv")} and .png')
    if args.out:
        write_fused(args.out, scores, labels)
        print(f'fused scores: {args.out}')


def cli():
    run(main)


if __name__ == '__main__':
    cli()
