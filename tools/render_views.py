"""Render FSD-format 2D views (x/W - 0.5, y/H - 0.5, 30 fps, confidence 1) of 3D joints from fixed cameras.

python tools/render_views.py ../shared/data/fs_jump3d/train_joints3d_60fps.npz --yaw 45 90 -o output/fs_jump3d_views

For every yaw (and --pitch) it writes <out>/yaw<Y>_pitch<P>_data.npy (N, 3, T, 25, 1) and _label.npy, the clips
in the 3D file's order. The camera is FS-Jump3D's side view (paddlevideo/loader/pipelines/camera.py) turned by
yaw degrees about the vertical and tilted pitch degrees down: yaw 0, pitch 0 gives train_data.npy again.
"""
import os

import numpy as np

from paddlevideo.loader.dataset3d import Skeleton3DDataset
from paddlevideo.loader.pipelines import fsd_view
from paddlevideo.utils.cli import ArgumentParser, bounded, run
from paddlevideo.utils.fileio import atomic_write, check_output_file, check_output_folder


def parse_args(argv):
    p = ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('joints', help=".npz with 'joints' (N, T, 25, 3) mm at 60 fps, 'lengths', 'labels'")
    p.add_argument('--yaw', type=bounded(float), nargs='+', default=[45.0, 90.0], help='degrees about the vertical')
    p.add_argument('--pitch', type=bounded(float, -90, 90), default=0.0, help='degrees looking down')
    p.add_argument('-o', '--output', default='output/fs_jump3d_views', help='folder for the .npy files')
    return p.parse_args(argv)


def render(dataset, yaw, pitch):
    """(N, 3, T, V, 1) float32 views of every clip, zero-padded to the longest."""
    views = [fsd_view(dataset.raw(i)[..., 0].transpose(1, 2, 0), yaw=yaw, pitch=pitch) for i in range(len(dataset))]
    out = np.zeros((len(views), 3, max(v.shape[1] for v in views)) + views[0].shape[2:], np.float32)
    for i, v in enumerate(views):
        out[i, :, :v.shape[1]] = v
    return out


def name(value):
    return f'{value:g}'.replace('-', 'm').replace('.', 'p')


def main(argv=None):
    args = parse_args(argv)
    check_output_folder(args.output, '-o/--output')
    prefixes = [os.path.join(args.output, f'yaw{name(yaw)}_pitch{name(args.pitch)}') for yaw in args.yaw]
    for prefix in prefixes:
        check_output_file(prefix + '_data.npy', '-o/--output', reads=[args.joints])
        check_output_file(prefix + '_label.npy', '-o/--output', reads=[args.joints])
    dataset = Skeleton3DDataset(args.joints, pipeline=None, joints=25)
    for yaw, prefix in zip(args.yaw, prefixes):
        data = render(dataset, yaw, args.pitch)
        atomic_write(prefix + '_data.npy', lambda f: np.save(f, data))
        atomic_write(prefix + '_label.npy', lambda f: np.save(f, dataset.labels))
        print(f'{prefix}_data.npy {data.shape}, {prefix}_label.npy')


def cli():
    run(main)


if __name__ == '__main__':
    cli()
