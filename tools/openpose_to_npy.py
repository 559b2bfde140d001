"""Pack OpenPose --write_json folders (one per video) into FSD-layout skeleton arrays, with labels from a CSV.

python tools/openpose_to_npy.py out/video1 out/video2 ... --frame-size 1280x720 -o data.npy \
    [--labels label.csv --label-out label.npy] [--norm fsd|unit]

Each folder holds one video's per-frame files `<name>_<12-digit frame>_keypoints.json` (OpenPose run with
--model_pose BODY_25 and the default --keypoint_scale 0, i.e. pixels of the source video). The output is
N x 3 x T x 25 x 1 float32 (x, y, confidence), T the longest video, zeros after a shorter one's end; a frame with
nobody (or without a file) is zero where it stands. Main skater, when a frame holds several people: the person
whose box overlaps the skater's box of the last frame most (IoU >= 0.3), else the largest and most confident one
(summed confidence x box diagonal). The label CSV is FSD-10's: rows `class,file name,frames,label`, matched to a
folder by the folder's name or the video name in its files.
"""
import argparse
import os
import re

from paddlevideo.inference.openpose import write_openpose_npy
from paddlevideo.skeleton import NORMS
from paddlevideo.utils.cli import ArgumentParser, run
from paddlevideo.utils.errors import ConfigError
from paddlevideo.utils.fileio import check_output_file


def frame_size(text):
    match = re.fullmatch(r'\s*(\d+)\s*[xX]\s*(\d+)\s*', text)
    if not match or not all(int(v) > 0 for v in match.groups()):
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT in pixels such as 1280x720, got '{text}'")
    return int(match[1]), int(match[2])


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split('\n\n', 2)[2],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('folders', nargs='+', metavar='JSON_DIR', help="one video's OpenPose JSON files")
    parser.add_argument('--frame-size', type=frame_size, required=True, metavar='WxH',
                        help='width x height of the videos OpenPose read (its JSON is in their pixels)')
    parser.add_argument('-o', '--output', required=True, help='data .npy to write')
    parser.add_argument('--labels', default=None, help="label CSV (class,file name,frames,label), FSD-10's form")
    parser.add_argument('--label-out', default=None, help='label .npy to write (int64, one per folder)')
    parser.add_argument('--norm', choices=NORMS, default='fsd',
                        help="coordinate normalisation: fsd (default) x/W - 0.5, FSD-10's scale; unit 2x/W - 1")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if (args.labels is None) != (args.label_out is None):
        raise ConfigError('--labels and --label-out go together (the CSV to read and the .npy to write)')
    check_output_file(args.output, '-o/--output', reads=[args.labels])
    if args.label_out is not None:
        check_output_file(args.label_out, '--label-out', reads=[args.labels])
        if os.path.abspath(args.label_out) == os.path.abspath(args.output):
            raise ConfigError(f'--label-out {args.label_out} is also -o/--output: the labels would replace the data')
    shape, labels, seen = write_openpose_npy(args.folders, args.output, *args.frame_size, norm=args.norm,
                                             label_csv=args.labels, label_path=args.label_out)
    labelled = f'; labels -> {args.label_out}' if labels is not None else ''
    print(f'{args.output}: {shape[0]} samples, shape {shape}, norm {args.norm}; frames with a skeleton per sample '
          f'{int(seen.min())}..{int(seen.max())} of {shape[2]}{labelled}')


def cli():
    run(main)


if __name__ == '__main__':
    cli()
