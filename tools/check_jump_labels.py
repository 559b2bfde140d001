"""Check a jump set's labels against the takeoff foot each jump must have, and swap classes that were mixed up.

python tools/check_jump_labels.py ../shared/data/fs_jump3d/train_joints3d_60fps.npz \
    --groups ../shared/data/fs_jump3d/train_skater.npy
python tools/check_jump_labels.py ../shared/data/fs_jump3d/train_joints3d_60fps.npz \
    --groups ../shared/data/fs_jump3d/train_skater.npy --swap 0 Salchow Toeloop -o output/fs_jump3d_labels/train_label.npy

For every group (a skater) and single-jump class it counts the clips whose gliding foot before the takeoff (the
lower ankle 0.75-0.25 s before the hip's highest point) is the one the rules of skating give that jump (Axel,
Flip, Lutz, Salchow: left; Loop, Toeloop: right; the other foot for a skater who turns clockwise), and names the
(group, class) pairs where fewer than half are: a class of that group mislabelled. --swap GROUP A B exchanges
classes A and B for that group, checks again, and writes the labels with -o (nothing else is changed).
"""
import os

import numpy as np

from paddlevideo.loader.builder import read_names
from paddlevideo.loader.dataset3d import Skeleton3DDataset
from paddlevideo.skeleton.jumps import clockwise, gliding_foot, takeoff_foot
from paddlevideo.tasks.crossval import load_groups
from paddlevideo.utils.cli import ArgumentParser, bounded, run
from paddlevideo.utils.errors import ConfigError
from paddlevideo.utils.fileio import atomic_write, check_output_file


def parse_args(argv):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('joints', help=".npz with 'joints' (N, T, 25, 3) mm, world Z up, 'lengths', 'labels'")
    p.add_argument('--labels', default=None, help='labels (N,) .npy to check instead of the file\'s own')
    p.add_argument('--groups', default=None, help='one integer per clip (.npy): whose jump it is (default: one group)')
    p.add_argument('--class-names', default=None, help='class names, one per line (default: class_names.txt beside '
                                                       'the joints file)')
    p.add_argument('--fps', type=bounded(float, 1), default=60.0, help='frame rate of the joints')
    p.add_argument('--swap', nargs=3, action='append', default=[], metavar=('GROUP', 'A', 'B'),
                   help='exchange classes A and B (names) in that group (repeatable; needs -o)')
    p.add_argument('-o', '--output', default=None, help='write the labels, swaps applied, to this .npy')
    return p.parse_args(argv)


def check(feet, turns, labels, groups, names):
    """Rows (group, class, expected foot, clips on it, clips), one per group and single-jump class."""
    rows = []
    for g in np.unique(groups):
        for c, name in enumerate(names):
            clips = np.flatnonzero((groups == g) & (labels == c))
            if takeoff_foot(name) is None or not len(clips):
                continue
            right = sum(feet[i] == takeoff_foot(name, turns[i]) for i in clips)
            rows.append((int(g), name, takeoff_foot(name), int(right), len(clips)))
    return rows


def report(rows):
    lines = [f'{"group":>5}  {"class":<10} {"foot":<6} on it', *(
        f'{g:>5}  {name:<10} {foot:<6} {right:>2}/{n}' + ('   <- disagrees with the rules' if 2 * right < n else '')
        for g, name, foot, right, n in rows)]
    bad = [f'group {g} {name} ({right}/{n})' for g, name, _, right, n in rows if 2 * right < n]
    lines.append(f'{len(bad)} of {len(rows)} (group, class) pairs disagree with the takeoff-foot rule'
                 + (': ' + ', '.join(bad) if bad else ''))
    return '\n'.join(lines)


def swapped(labels, groups, names, swaps):
    out = labels.copy()
    for group, a, b in swaps:
        unknown = [n for n in (a, b) if n not in names]
        if unknown or not group.lstrip('-').isdigit() or int(group) not in set(groups.tolist()):
            raise ConfigError(f'--swap {group} {a} {b}: expected a group of {sorted(set(groups.tolist()))} and two '
                              f'class names of {names}')
        ia, ib, here = names.index(a), names.index(b), groups == int(group)
        out[here & (labels == ia)], out[here & (labels == ib)] = ib, ia
    return out


def main(argv=None):
    args = parse_args(argv)
    if args.swap and not args.output:
        raise ConfigError('--swap writes new labels: give -o/--output')
    if args.output:
        check_output_file(args.output, '-o/--output', reads=[args.joints, args.labels, args.groups])
    data = Skeleton3DDataset(args.joints, pipeline=None, joints=25, label_path=args.labels)
    names = read_names(args.class_names or os.path.join(os.path.dirname(args.joints), 'class_names.txt'))
    if data.labels.max() >= len(names):
        raise ConfigError(f'{len(names)} class names for labels up to {data.labels.max()}')
    groups = load_groups(args.groups, len(data)) if args.groups else np.zeros(len(data), np.int64)
    clips = [data.data[i, :data.lengths[i]] for i in range(len(data))]
    feet = [gliding_foot(c, args.fps)[0] for c in clips]
    turns = [clockwise(c) for c in clips]
    print(f'{args.joints}: {len(clips)} clips, {sum(turns)} turning clockwise; gliding foot before the takeoff')
    print(report(check(feet, turns, data.labels, groups, names)))
    if args.swap:
        labels = swapped(data.labels, groups, names, args.swap)
        print(f'after {"; ".join(" ".join(s) for s in args.swap)} ({int((labels != data.labels).sum())} labels '
              f'changed):')
        print(report(check(feet, turns, labels, groups, names)))
        atomic_write(args.output, lambda f: np.save(f, labels))
        print(f'labels: {args.output}')


def cli():
    run(main)


if __name__ == '__main__':
    cli()
