"""Name the elements of a video as they happen: pose (MediaPipe) -> ST-GCN over sliding windows -> timeline and an
annotated video, or live from a camera or stream.

python tools/demo_video.py VIDEO -c CONFIG -w WEIGHTS -o out.mp4 --timeline out.json
python tools/demo_video.py VIDEO --model inference/X.json -o out.mp4 --timeline out.json
python tools/demo_video.py --camera 0 --model inference/X.json [-o live.mp4]
python tools/demo_video.py VIDEO --model joint/X.json bone/X.json --fuse-weights 1 1 --timeline out.json (streams)

--timeline writes the JSON, the same rows as CSV beside it and a picture of the timeline (PNG). Live input shows
the annotated frames in a window where there is a display (q quits) and/or writes them with -o; it works on the
newest frame and drops the ones it cannot keep up with. A file given to --camera is played at its own rate.
"""
import json
import os
import sys

import paddlevideo  # noqa: F401  (sets the CPU runtime before paddle is imported)

from paddlevideo.inference import FusedRecognizer, Recognizer
from paddlevideo.inference.pose import build_pose_estimator
from paddlevideo.inference.stream import FOURCC, annotate_video, run_live
from paddlevideo.inference.timeline import timeline_paths, write_timeline
from paddlevideo.inference.video_io import open_video
from paddlevideo.utils.cli import ArgumentParser, bounded, run
from paddlevideo.utils.config import get_config
from paddlevideo.utils.errors import ConfigError
from paddlevideo.utils.fileio import check_output_file


def parse_args(argv):
    parser = ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('video', nargs='?', help='video file')
    parser.add_argument('--camera', default=None, help='live: a camera index (0), a stream URL, or a file played '
                                                       'at its own rate')
    parser.add_argument('-c', '--config', default=None, help='YAML config of the model')
    parser.add_argument('-w', '--weights', default=None, help='trained weights (.pdparams), with --config')
    parser.add_argument('--model', nargs='+', default=None,
                        help='exported model (<name>.json or .onnx) with its contract; several (one per stream): '
                             'their scores are fused')
    parser.add_argument('--fuse-weights', type=bounded(float, 0), nargs='+', default=None,
                        help='with several --model: the weight of each one\'s softmax scores (default: equal)')
    parser.add_argument('--override', action='append', default=[], metavar='KEY=VALUE', help='config override')
    parser.add_argument('-o', '--output', default=None, help='annotated video (.mp4 or .avi)')
    parser.add_argument('--timeline', default=None, help='timeline JSON (+ .csv and .png beside it)')
    parser.add_argument('--stride', type=bounded(int, 1), default=8,
                        help='model frames between window starts (default 8)')
    parser.add_argument('--enter', type=bounded(float, 0, 1), default=0.6,
                        help='an element starts at this score (default 0.6); with a background class '
                             '("No jump"), where the background is at most 1 - ENTER')
    parser.add_argument('--leave', type=bounded(float, 0, 1), default=0.4,
                        help='and ends below this one (default 0.4)')
    parser.add_argument('--centre', type=bounded(float, 0.05, 1), default=0.5,
                        help="a frame's scores: the mean over the windows whose middle CENTRE of frames covers it "
                             '(default 0.5: a window speaks for its middle; 1: every window covering the frame)')
    parser.add_argument('--min-seconds', type=bounded(float, 0), default=0.2,
                        help='shorter elements are dropped (default 0.2)')
    parser.add_argument('--pose-every', type=bounded(int, 1), default=1,
                        help='run pose on every n-th frame (default 1)')
    parser.add_argument('--mirror', action='store_true',
                        help='mirror the skeleton before recognition: a clockwise skater for a model of '
                             'counter-clockwise ones (the jump model); the drawing is not mirrored')
    parser.add_argument('--seconds', type=bounded(float, 0), default=None, help='live: stop after this long')
    parser.add_argument('--no-display', action='store_true', help='live: do not open a window')
    return parser.parse_args(argv)


def check_outputs(args):
    """Raise before any work unless every file this run writes can be written: -o (a kind of video OpenCV
    writes) and --timeline with the .csv and .png write_timeline puts beside it."""
    paths, reads = [], [args.video, args.camera, *(args.model or []), args.config, args.weights]
    if args.output:
        check_output_file(args.output, '-o/--output', reads)
        if os.path.splitext(args.output)[1].lower() not in FOURCC:
            raise ConfigError(f'-o/--output {args.output}: cannot write this kind of video; known: '
                              f'{", ".join(FOURCC)}')
        paths.append(args.output)
    if args.timeline:
        for path in timeline_paths(args.timeline):
            check_output_file(path, '--timeline', reads)
            paths.append(path)
    if len({os.path.abspath(p) for p in paths}) < len(paths):
        raise ConfigError(f'-o/--output {args.output} is also a file --timeline {args.timeline} writes')


def build_recognizer(args):
    if args.override and not args.config:
        raise ConfigError('--override changes a config: give --config too')
    if args.fuse_weights and len(args.model or []) < 2:
        raise ConfigError('--fuse-weights weighs several --model files against each other: give two or more')
    if args.model and len(args.model) > 1 and args.config:
        raise ConfigError('--config describes one model: with several --model each brings its own contract')
    cfg = get_config(args.config, args.override) if args.config else None
    if args.model and len(args.model) > 1:
        return FusedRecognizer([Recognizer.from_export(m) for m in args.model], args.fuse_weights)
    if args.model:
        return Recognizer.from_export(args.model[0], cfg, args.config)
    if cfg is None or not args.weights:
        raise ConfigError('give --model (an exported model), or --config with --weights')
    return Recognizer.from_config(cfg, args.weights)


def has_display():
    """Whether cv2.imshow can open a window here (a display, and an OpenCV built with a GUI: not the headless
    wheel)."""
    if not (os.environ.get('DISPLAY') or os.environ.get('WAYLAND_DISPLAY')):
        return False
    import cv2
    try:
        cv2.namedWindow('paddlevideo live')
    except cv2.error:
        return False
    return True


def main(argv=None):
    args = parse_args(argv)
    if bool(args.video) == bool(args.camera):
        raise ConfigError('give a video file, or --camera for live input (not both)')
    if args.camera and args.timeline:
        raise ConfigError('--timeline is for a video file; live input shows or writes the annotated frames')
    if args.video and not args.output and not args.timeline:
        raise ConfigError('nothing to write: give -o (annotated video) and/or --timeline (JSON)')
    show = bool(args.camera) and not args.no_display and has_display()
    if args.camera and not show and not args.output:
        raise ConfigError('no display to show live frames on: give -o to write them')
    check_outputs(args)
    recognizer = build_recognizer(args)
    recognizer.mirror = args.mirror
    settings = dict(stride=args.stride, enter=args.enter, leave=args.leave, min_seconds=args.min_seconds,
                    centre=args.centre)
    with open_video(args.camera or args.video) as video, build_pose_estimator('mediapipe') as estimator:
        if args.camera:
            stats = run_live(video, estimator, recognizer, show=show, out_path=args.output,
                             realtime=video.is_file, max_seconds=args.seconds, **settings,
                             report=lambda s: print(f"live: {s['shown_fps']:.1f} fps, {s['dropped']} of {s['read']} "
                                                    f"frames dropped, latency {s['latency_mean_ms']:.0f} ms",
                                                    file=sys.stderr))
            print(json.dumps(stats))
            return
        data, scores = annotate_video(video, estimator, recognizer, args.output, pose_every=args.pose_every,
                                      **settings)
    paths = (write_timeline(args.timeline, data, scores, args.enter, args.leave, recognizer.background)
             if args.timeline else [])
    for row in data['segments']:
        if row['class_id'] >= 0:
            print(f"{row['start_s']:7.2f}-{row['end_s']:7.2f} s  frames {row['start_frame']}-{row['end_frame']}  "
                  f"{row['label']} {row['score']:.2f}")
    print(f"{video.name}: {data['frames']} frames, {sum(r['class_id'] >= 0 for r in data['segments'])} element(s); "
          f"wrote {', '.join(([args.output] if args.output else []) + paths)}")


def cli():
    run(main)


if __name__ == '__main__':
    cli()
