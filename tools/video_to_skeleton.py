"""Turn a video into the skeleton array the models read: MediaPipe pose, BODY_25, FSD layout.

python tools/video_to_skeleton.py skating.mp4 -o skeleton.npy [--norm fsd|unit] [--every N]

Writes 1 x 3 x T x 25 x 1 float32 (x, y, confidence; T = frames read), the layout of FSD-10 and of
tools/predict.py's input. Prints the frame count, the frame rate and the fraction of frames with a skeleton.
Needs the optional video dependencies: python -m pip install --no-deps -r requirements-video.txt
"""
from paddlevideo.inference.pose import (build_pose_estimator, frames_with_skeleton, skeleton_from_video,
                                        write_skeleton_npy)
from paddlevideo.inference.video_io import open_video
from paddlevideo.skeleton import NORMS
from paddlevideo.utils.cli import ArgumentParser, bounded, run
from paddlevideo.utils.errors import DataError
from paddlevideo.utils.fileio import check_output_file


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('video', help='video file, camera index ("0") or stream URL')
    parser.add_argument('-o', '--output', required=True, help='.npy to write')
    parser.add_argument('--norm', choices=NORMS, default='fsd',
                        help="coordinate normalisation: fsd (default) x/W - 0.5, FSD-10's scale; unit 2x/W - 1, "
                             "as the Penn Action arrays. Use the one the model was trained on (INFERENCE.coords)")
    parser.add_argument('--every', type=bounded(int, 1), default=1, metavar='N',
                        help='keep every N-th frame (the output frame rate is fps / N); default 1')
    parser.add_argument('--max-frames', type=bounded(int, 1), default=None, help='stop after this many kept frames')
    parser.add_argument('--no-crop', action='store_true',
                        help='do not re-detect a lost skater on a crop around their last position')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    check_output_file(args.output, '-o/--output', reads=[args.video])
    with open_video(args.video) as video, build_pose_estimator('mediapipe', redetect_crop=not args.no_crop) as pose:
        joints = skeleton_from_video(video, pose, every=args.every, max_frames=args.max_frames)
    seen = frames_with_skeleton(joints)
    if not seen.any():
        raise DataError(f'{args.video}: no person found in any of its {len(joints)} frames; nothing written')
    sample = write_skeleton_npy(args.output, joints, *video.size, norm=args.norm)
    fps = video.fps / args.every
    print(f'{args.output}: {len(joints)} frames at {fps:.2f} fps, {video.size[0]}x{video.size[1]}, a skeleton in '
          f'{seen.mean():.1%} of them ({int(seen.sum())}), shape {sample.shape}, norm {args.norm}')


def cli():
    run(main)


if __name__ == '__main__':
    cli()
