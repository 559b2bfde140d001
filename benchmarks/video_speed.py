"""Throughput of the video path on the real videos in ../shared/videos: one JSON line.

Per video, in frames per second: decode (OpenCV), pose (MediaPipe on every frame), recognition (the sliding windows
of --stride over the frames' skeletons, per video frame, through the exported model as demo_video.py --model runs
it (Predictor defaults: fp32) and through dygraph as -c/-w runs it), drawing (skeleton, label and strip) and
encoding, then the whole path (tools/demo_video.py's annotate_video writing an .mp4): decoding and pose each on a
thread beside recognition, drawing and encoding (the default), all on one thread, with --pose-every 2, and over the
video played 3 times in a row (closer to a whole program's steady rate); and live (run_live, as demo_video.py
--camera runs it, writing the .mp4; pose on its own thread, and all on one): the file played at its own rate as a
camera, frames shown per second against the source's rate (the baseline: real time), the fraction of the video's
frames dropped and the latency from capture to drawn. Beside each rate, the CPU time of this process per frame
(ms, all its threads): what a stage costs whoever else runs on the machine; 2000 / (the whole path's CPU ms) bounds
the rate on two free cores. Random weights (speed does not depend on them). Others may share the CPU: the line
carries the load average before and after.

python benchmarks/video_speed.py [--config configs/recognition/stgcn/stgcn_penn_action.yaml] [--stride 8]
    [--videos clean_and_jerk.mp4 skating/axel_1A.mp4 skating/biellmann_spin.avi]
"""
import argparse
import json
import os
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
import paddlevideo  # noqa: E402,F401  (sets the CPU runtime before paddle is imported)
import numpy as np  # noqa: E402
import paddle  # noqa: E402

from benchmarks.machine import machine  # noqa: E402
from paddlevideo.inference import Recognizer, export_model  # noqa: E402
from paddlevideo.inference.draw import annotate  # noqa: E402
from paddlevideo.inference.pose import build_pose_estimator  # noqa: E402
from paddlevideo.inference.stream import AtomicVideoWriter, annotate_video, run_live  # noqa: E402
from paddlevideo.inference.timeline import frame_scores  # noqa: E402
from paddlevideo.inference.video_io import open_video  # noqa: E402
from paddlevideo.modeling import build_model  # noqa: E402
from paddlevideo.utils.checkpoint import atomic_save  # noqa: E402
from paddlevideo.utils.config import get_config  # noqa: E402

VIDEOS = os.path.join(os.path.dirname(ROOT), 'shared', 'videos')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--config', default=os.path.join(ROOT, 'configs/recognition/stgcn/stgcn_penn_action.yaml'))
    parser.add_argument('--stride', type=int, default=8)
    parser.add_argument('--videos', nargs='+', default=['clean_and_jerk.mp4', 'skating/axel_1A.mp4',
                                                        'skating/biellmann_spin.avi'])
    return parser.parse_args()


def clock(fn):
    """(fn(), wall seconds, CPU seconds of this process)."""
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def figures(name, frames, wall, cpu):
    """{name_fps: frames per wall second, name_cpu_ms: CPU ms per frame}."""
    return {f'{name}_fps': round(frames / wall, 1), f'{name}_cpu_ms': round(cpu * 1000 / frames, 2)}


def one_video(path, recognizers, stride, tmp):
    with open_video(path) as video:
        frames, *decode = clock(lambda: list(video))
        fps, size = video.fps, video.size
    n = len(frames)
    with build_pose_estimator('mediapipe') as estimator:
        estimator(frames[0])          # loads its models
        joints, *pose = clock(lambda: np.stack([estimator(f) for f in frames]))
    out = {'size': list(size), 'fps': round(fps, 2), 'frames': n,
           'person_frames': int((joints[..., 2] > 0).any(axis=1).sum()),
           **figures('decode', n, *decode), **figures('pose', n, *pose)}
    for name, recognizer in recognizers.items():
        def run():
            return frame_scores(joints, lambda c: recognizer.scores(c, size), recognizer.window, stride,
                                recognizer.num_classes, fps, recognizer.fps)
        out.update(figures(f'recognition_{name}', n, *clock(run)[1:]))
    recognizer = recognizers['exported']
    rows = [[0, n // 2, 0], [n // 2 + 1, n - 1, -1]]
    copies = [f.copy() for f in frames]
    draw = clock(lambda: [annotate(f, j, 'clean_and_jerk', 0.9, 0, rows, i, n, recognizer.num_classes)
                          for i, (f, j) in enumerate(zip(copies, joints))])
    out.update(figures('drawing', n, *draw[1:]))

    def encode():
        with AtomicVideoWriter(os.path.join(tmp, 'encode.mp4'), fps, size) as writer:
            for f in copies:
                writer.write(f)
    out.update(figures('encoding', n, *clock(encode)[1:]))
    del frames, copies
    for name, times, options in (('whole', 1, {}), ('whole_one_thread', 1, {'threaded': False}),
                                 ('whole_pose_every_2', 1, {'pose_every': 2}), ('whole_played_3x', 3, {})):
        def whole():
            with build_pose_estimator('mediapipe') as estimator:
                return annotate_video(Played(path, times), estimator, recognizer, os.path.join(tmp, 'whole.mp4'),
                                      stride=stride, **options)
        out.update(figures(name, n * times, *clock(whole)[1:]))
    for name, threaded in (('live', True), ('live_one_thread', False)):
        with build_pose_estimator('mediapipe') as estimator:
            live = run_live(Played(path, 1), estimator, recognizer, out_path=os.path.join(tmp, 'live.mp4'),
                            stride=stride, realtime=True, threaded=threaded)
        out.update({f'{name}_fps': round(live['shown_fps'], 1), f'{name}_dropped': round(live['dropped'] / n, 3),
                    f'{name}_latency_mean_ms': round(live['latency_mean_ms']),
                    f'{name}_latency_max_ms': round(live['latency_max_ms'])})
    return out


class Played:
    """The video at `path` played `times` in a row as one stream: a longer program from a short clip, where
    filling the first window and drawing the frames of the last one weigh less."""

    def __init__(self, path, times):
        self.path, self.times = path, times
        with open_video(path) as video:
            self.name, self.fps, self.size, self.frame_count = video.name, video.fps, video.size, video.frame_count
        self.frame_count *= times

    def __iter__(self):
        for _ in range(self.times):
            with open_video(self.path) as video:
                yield from video


def main():
    args = parse_args()
    cfg = get_config(args.config)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        paddle.seed(0)
        weights = os.path.join(tmp, 'random.pdparams')
        atomic_save(build_model(cfg.MODEL).state_dict(), weights)
        export_model(cfg, weights, os.path.join(tmp, 'export'), onnx=True)
        recognizers = {'exported': Recognizer.from_export(os.path.join(tmp, 'export', cfg.model_name + '.json'),
                                                          notify=lambda line: None),
                       'dygraph': Recognizer.from_config(cfg, weights)}
        for r in recognizers.values():
            r.warm_up((640, 480))
        videos = {v: one_video(os.path.join(VIDEOS, v), recognizers, args.stride, tmp) for v in args.videos}
    print(json.dumps({'benchmark': 'video_speed', 'command': ' '.join(['python'] + sys.argv),
                      'config': os.path.relpath(args.config, ROOT), 'window': recognizers['exported'].window,
                      'stride': args.stride, 'exported_engine': recognizers['exported'].predictor.backend,
                      'machine': machine(), 'load_average_before': [round(x, 2) for x in load_before],
                      'load_average_after': [round(x, 2) for x in os.getloadavg()], 'videos': videos}))


if __name__ == '__main__':
    main()
