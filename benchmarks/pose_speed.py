"""Throughput of the video -> skeleton path on the real videos in ../shared/videos: one JSON line.

Per video: decode fps (OpenCV, every frame, wall clock), pose ms per frame (MediaPipe BlazePose
model_complexity=1 mapped to BODY_25, CPU time of this process and wall clock) and the fraction of frames with a
skeleton, with and without the re-detection on a crop around the last position (MediaPipePose redetect_crop).
MediaPipe runs its graph on its own threads, so CPU ms per frame can exceed wall ms. Timings on a shared machine
are noisy: compare rows of one run.

python benchmarks/pose_speed.py [--videos a.mp4 ...] [--max-frames N]
"""
import argparse
import json
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
from benchmarks.machine import machine  # noqa: E402  (no framework import)
from paddlevideo.inference.pose import build_pose_estimator, frames_with_skeleton, skeleton_from_video  # noqa: E402
from paddlevideo.inference.video_io import open_video  # noqa: E402

VIDEOS = os.path.join(os.path.dirname(ROOT), 'shared', 'videos')
DEFAULT = ['clean_and_jerk.mp4', 'skateboarding.mp4', 'ta_chi.mp4', 'skating/axel_1A.mp4',
           'skating/biellmann_spin.avi']


def decode(path):
    start, frames = time.perf_counter(), 0
    with open_video(path) as video:
        for _ in video:
            frames += 1
    return frames, frames / (time.perf_counter() - start)


def pose(path, crop, max_frames):
    cpu, wall = time.process_time(), time.perf_counter()
    with build_pose_estimator('mediapipe', redetect_crop=crop) as estimator:
        joints = skeleton_from_video(path, estimator, max_frames=max_frames)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {'skeleton_fraction': round(float(frames_with_skeleton(joints).mean()), 4),
            'cpu_ms_per_frame': round(1000 * cpu / len(joints), 1),
            'wall_ms_per_frame': round(1000 * wall / len(joints), 1),
            'pose_fps': round(len(joints) / wall, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--videos', nargs='+', default=[os.path.join(VIDEOS, v) for v in DEFAULT])
    parser.add_argument('--max-frames', type=int, default=None, help='frames posed per video (default all)')
    args = parser.parse_args()
    rows = {}
    for path in args.videos:
        frames, decode_fps = decode(path)
        with open_video(path) as video:
            size = '%dx%d' % video.size
        rows[os.path.basename(path)] = {'frames': frames, 'size': size, 'decode_fps': round(decode_fps, 1),
                                        'pose_with_crop': pose(path, True, args.max_frames),
                                        'pose_without_crop': pose(path, False, args.max_frames)}
    print(json.dumps({'benchmark': 'pose_speed', 'command': ' '.join(['python'] + sys.argv), 'videos': rows,
                      'machine': machine(), 'note': 'shared CPU: other jobs ran at the same time'}))


if __name__ == '__main__':
    main()
