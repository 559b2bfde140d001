"""Video -> BODY_25 skeletons: the MediaPipe mapping joint by joint, the real videos, the FSD layout, the tool's
one-line errors. Real videos are read in stretches of 20-25 frames to keep the file fast."""
import importlib.util
import itertools
import os
import sys
import threading

import numpy as np
import pytest

from conftest import ROOT, SHARED, need

from paddlevideo.inference.pose import (MediaPipePose, body25_from_mediapipe, build_pose_estimator,
                                        frames_with_skeleton, keep_inside, skeleton_from_video, to_fsd_layout)
from paddlevideo.inference.video_io import native_stderr_silenced, open_video
from paddlevideo.skeleton import JOINT_NAMES
from paddlevideo.utils.errors import ConfigError, DataError

VIDEOS = SHARED / 'videos'
FSD_EXAMPLE = SHARED / 'data' / 'fsd10' / 'example_skeleton.npy'
HAVE_MEDIAPIPE = importlib.util.find_spec('mediapipe') is not None
needs_mediapipe = pytest.mark.skipif(not HAVE_MEDIAPIPE, reason='mediapipe is not installed (python -m pip install '
                                     '--no-deps -r requirements-video.txt)')

# MediaPipe's 33 pose landmarks in index order, as its documentation lists them.
MEDIAPIPE_NAMES = [
    'NOSE', 'LEFT_EYE_INNER', 'LEFT_EYE', 'LEFT_EYE_OUTER', 'RIGHT_EYE_INNER', 'RIGHT_EYE', 'RIGHT_EYE_OUTER',
    'LEFT_EAR', 'RIGHT_EAR', 'MOUTH_LEFT', 'MOUTH_RIGHT', 'LEFT_SHOULDER', 'RIGHT_SHOULDER', 'LEFT_ELBOW',
    'RIGHT_ELBOW', 'LEFT_WRIST', 'RIGHT_WRIST', 'LEFT_PINKY', 'RIGHT_PINKY', 'LEFT_INDEX', 'RIGHT_INDEX',
    'LEFT_THUMB', 'RIGHT_THUMB', 'LEFT_HIP', 'RIGHT_HIP', 'LEFT_KNEE', 'RIGHT_KNEE', 'LEFT_ANKLE', 'RIGHT_ANKLE',
    'LEFT_HEEL', 'RIGHT_HEEL', 'LEFT_FOOT_INDEX', 'RIGHT_FOOT_INDEX']
# BODY_25 name -> MediaPipe landmark name(s): one, a pair (midpoint), or none (no landmark).
EXPECTED = {
    'Nose': 'NOSE', 'Neck': ('LEFT_SHOULDER', 'RIGHT_SHOULDER'), 'RShoulder': 'RIGHT_SHOULDER',
    'RElbow': 'RIGHT_ELBOW', 'RWrist': 'RIGHT_WRIST', 'LShoulder': 'LEFT_SHOULDER', 'LElbow': 'LEFT_ELBOW',
    'LWrist': 'LEFT_WRIST', 'MidHip': ('LEFT_HIP', 'RIGHT_HIP'), 'RHip': 'RIGHT_HIP', 'RKnee': 'RIGHT_KNEE',
    'RAnkle': 'RIGHT_ANKLE', 'LHip': 'LEFT_HIP', 'LKnee': 'LEFT_KNEE', 'LAnkle': 'LEFT_ANKLE', 'REye': 'RIGHT_EYE',
    'LEye': 'LEFT_EYE', 'REar': 'RIGHT_EAR', 'LEar': 'LEFT_EAR', 'LBigToe': 'LEFT_FOOT_INDEX', 'LSmallToe': None,
    'LHeel': 'LEFT_HEEL', 'RBigToe': 'RIGHT_FOOT_INDEX', 'RSmallToe': None, 'RHeel': 'RIGHT_HEEL'}


def test_body25_from_mediapipe_joint_by_joint():
    rng = np.random.default_rng(0)
    landmarks = np.column_stack([rng.uniform(0, 640, 33), rng.uniform(0, 480, 33), rng.uniform(0.05, 1, 33)])
    joints = body25_from_mediapipe(landmarks)
    assert joints.shape == (25, 3) and joints.dtype == np.float32
    index = {name: i for i, name in enumerate(MEDIAPIPE_NAMES)}
    for v, name in enumerate(JOINT_NAMES['fsd10']):
        source = EXPECTED[name]
        if source is None:
            assert (joints[v] == 0).all(), name
        elif isinstance(source, tuple):
            a, b = landmarks[index[source[0]]], landmarks[index[source[1]]]
            np.testing.assert_allclose(joints[v, :2], (a[:2] + b[:2]) / 2, rtol=1e-6, err_msg=name)
            assert joints[v, 2] == np.float32(min(a[2], b[2])), name
        else:
            np.testing.assert_allclose(joints[v], landmarks[index[source]], rtol=1e-6, err_msg=name)


@needs_mediapipe
def test_landmark_names_are_mediapipes_own():
    from mediapipe.python.solutions.pose import PoseLandmark
    assert [landmark.name for landmark in sorted(PoseLandmark, key=int)] == MEDIAPIPE_NAMES


def test_joints_outside_the_frame_are_missing():
    joints = np.array([[10, 10, .9], [-0.1, 5, .8], [5, -1, .7], [640, 5, .6], [5, 480, .5], [639.9, 479.9, .4]],
                      np.float32)
    kept = keep_inside(joints, 640, 480)
    np.testing.assert_array_equal(kept[[0, 5]], joints[[0, 5]])
    assert (kept[1:5] == 0).all()


def test_fsd_layout_values():
    joints = np.zeros((4, 25, 3), np.float32)
    joints[1, 3] = (320, 120, 0.75)
    joints[2, 8] = (64, 360, 0.5)
    joints[2, 9] = (100, 100, 0)  # confidence 0: missing, whatever its position
    fsd = to_fsd_layout(joints, 640, 480, 'fsd')
    assert fsd.shape == (1, 3, 4, 25, 1) and fsd.dtype == np.float32
    np.testing.assert_allclose(fsd[0, :, 1, 3, 0], (0.0, -0.25, 0.75))
    np.testing.assert_allclose(fsd[0, :, 2, 8, 0], (0.1 - 0.5, 0.75 - 0.5, 0.5))
    assert np.count_nonzero(fsd) == 5  # everything else, the frames with nobody included, is zero
    unit = to_fsd_layout(joints, 640, 480, 'unit')
    np.testing.assert_allclose(unit[0, :, 2, 8, 0], (2 * 0.1 - 1, 2 * 0.75 - 1, 0.5))


def test_unknown_estimator_and_offline_only_complexity():
    with pytest.raises(ConfigError, match=r"unknown pose_estimator 'openpifpaf'; known: .*mediapipe"):
        build_pose_estimator('openpifpaf')
    with pytest.raises(ConfigError, match='model_complexity 2 downloads'):
        MediaPipePose(model_complexity=2)


def hide_mediapipe(monkeypatch):
    """As if mediapipe were not installed (None in sys.modules makes an import fail), submodules included."""
    for name in [n for n in sys.modules if n.split('.')[0] == 'mediapipe'] + ['mediapipe']:
        monkeypatch.setitem(sys.modules, name, None)


def test_missing_mediapipe_is_one_line(monkeypatch):
    hide_mediapipe(monkeypatch)
    with pytest.raises(ConfigError) as error:
        build_pose_estimator('mediapipe')
    message = str(error.value)
    assert '\n' not in message and 'pip install --no-deps -r requirements-video.txt' in message


def poses(video, start, stop, **options):
    """(T, 25, 3) MediaPipe joints of frames start..stop of a real video, and its size."""
    path = need(VIDEOS / video)
    with MediaPipePose(**options) as estimator, open_video(str(path)) as opened:
        return np.stack([estimator(f) for f in itertools.islice(opened, start, stop)]), opened.size


@needs_mediapipe
@pytest.mark.parametrize('video, start, upright', [
    ('clean_and_jerk.mp4', 0, True), ('skateboarding.mp4', 120, True), ('skating/axel_1A.mp4', 0, True),
    ('skating/biellmann_spin.avi', 0, False)])
def test_real_videos_have_a_skeleton_inside_the_frame(video, start, upright):
    joints, (width, height) = poses(video, start, start + 20)
    seen = frames_with_skeleton(joints)
    assert seen.mean() >= 0.9, (video, np.flatnonzero(~seen))
    present = joints[..., 2] > 0
    x, y = joints[..., 0][present], joints[..., 1][present]
    assert ((x >= 0) & (x < width) & (y >= 0) & (y < height)).all()
    assert ((joints[..., 2] >= 0) & (joints[..., 2] <= 1)).all()
    if upright:  # a standing person: the neck above the hips, the hips above the ankles
        assert (joints[seen, 1, 1] < joints[seen, 8, 1]).mean() >= 0.9
        body = joints[seen]
        assert (body[:, 8, 1] < body[:, [11, 14], 1].mean(axis=1)).mean() >= 0.9


@needs_mediapipe
def test_crop_redetection_finds_a_lost_skater():
    """Frames 0-35 of the skateboarding clip, where MediaPipe's tracker loses the small skater from frame 5 on (it
    found 8 of the 36 without the crop step, 23 with it, when this test was written)."""
    without, _ = poses('skateboarding.mp4', 0, 36, redetect_crop=False)
    with_crop, _ = poses('skateboarding.mp4', 0, 36)
    found_without, found_with = frames_with_skeleton(without).sum(), frames_with_skeleton(with_crop).sum()
    assert found_with >= found_without + 10, (found_without, found_with)


def load_tool(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(argv, capfd):
    """The tool in this process as its __main__ runs it; -> (exit code, stdout, stderr lines) at fd level, so
    anything a native library prints is counted too."""
    from paddlevideo.utils.cli import run
    capfd.readouterr()
    code = 0
    try:
        run(load_tool('video_to_skeleton').main, argv)
    except SystemExit as e:
        code = e.code
    out, err = capfd.readouterr()
    return code, out, err.splitlines()


def write_video(path, frames, fps=30.0):
    import cv2
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps, (width, height))
    for frame in frames:
        writer.write(frame)
    writer.release()


@pytest.fixture(scope='module')
def padded_clip(tmp_path_factory):
    """3 empty frames, 12 frames of clean_and_jerk, 5 empty frames: an .mp4 of 20 frames."""
    path = need(VIDEOS / 'clean_and_jerk.mp4')
    with open_video(str(path)) as video:
        person = list(itertools.islice(video, 12))
    empty = np.full_like(person[0], 90)
    clip = tmp_path_factory.mktemp('video') / 'padded.mp4'
    write_video(clip, [empty] * 3 + person + [empty] * 5)
    return clip


@needs_mediapipe
def test_tool_writes_the_fsd_layout(padded_clip, tmp_path, capfd):
    out = tmp_path / 'skeleton.npy'
    code, stdout, err = run_tool([str(padded_clip), '-o', str(out)], capfd)
    assert code == 0 and err == [], err
    assert '20 frames at 30.00 fps, 340x256, a skeleton in ' in stdout
    data = np.load(out)
    assert data.shape == (1, 3, 20, 25, 1) and data.dtype == np.float32
    seen = (data[0, 2, :, :, 0] > 0).any(axis=1)
    assert not seen[:3].any() and not seen[15:].any() and seen[3:15].mean() >= 0.9
    assert not data[:, :, :3].any() and not data[:, :, 15:].any()  # zeros only where nobody is, no extra padding
    # the same numbers as the library gives, normalised as FSD-10 (x/W - 0.5) where a joint is seen
    with MediaPipePose() as estimator:
        joints = skeleton_from_video(str(padded_clip), estimator)
    np.testing.assert_allclose(data, to_fsd_layout(joints, 340, 256, 'fsd'), atol=1e-6)
    present = data[0, 2] > 0
    assert (np.abs(data[0, :2][:, present]) <= 0.5).all()


def test_fsd_example_is_on_the_fsd_scale():
    """FSD-10's real sample lies in x/W - 0.5 coordinates: within [-0.5, 0.5], both sides of 0, wider than
    the half-scale a 'unit' reading would imply for a skater across the frame."""
    data = np.load(need(FSD_EXAMPLE))
    present = data[2] > 0
    x, y = data[0][present], data[1][present]
    assert -0.5 <= x.min() < 0 < x.max() <= 0.5 and -0.5 <= y.min() < 0 < y.max() <= 0.5
    assert x.max() - x.min() > 0.5  # the skater crosses more than half the frame: a [-1, 1] scale would say a quarter
    assert (data[:2][:, ~present] == 0).all()  # zero where the confidence is 0, as normalize_xy writes


@needs_mediapipe
def test_a_video_with_nobody_is_one_line(tmp_path, capfd):
    gray = np.tile(np.linspace(40, 200, 320, dtype=np.uint8)[None, :, None], (240, 1, 3))
    clip = tmp_path / 'empty_rink.mp4'
    write_video(clip, [gray] * 12)
    out = tmp_path / 'out.npy'
    code, stdout, err = run_tool([str(clip), '-o', str(out)], capfd)
    assert code == 2 and err == [f'error: {clip}: no person found in any of its 12 frames; nothing written']
    assert not out.exists() and list(tmp_path.iterdir()) == [clip]


@pytest.mark.parametrize('case', ['missing', 'corrupt', 'no_mediapipe'])
def test_bad_videos_are_one_line(case, tmp_path, capfd, monkeypatch):
    if case != 'missing' and importlib.util.find_spec('cv2') is None:
        pytest.skip('OpenCV is not installed (python -m pip install --no-deps -r requirements-video.txt)')
    video = tmp_path / 'clip.mp4'
    if case != 'missing':
        video.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    if case == 'no_mediapipe':
        hide_mediapipe(monkeypatch)
        video = need(VIDEOS / 'clean_and_jerk.mp4')
    out = tmp_path / 'out.npy'
    code, stdout, err = run_tool([str(video), '-o', str(out)], capfd)
    expected = {'missing': f'error: video not found: {video}',
                'corrupt': f'error: {video}: cannot be opened as a video (OpenCV found no reader for it)',
                'no_mediapipe': 'error: the MediaPipe pose estimator needs mediapipe, which is not installed: '
                                'python -m pip install --no-deps -r requirements-video.txt'}[case]
    assert code == 2 and err == [expected], err
    assert not out.exists() and not any(p.name.startswith('.tmp_') for p in tmp_path.iterdir())


def test_open_video_errors_name_the_file(tmp_path):
    with pytest.raises(DataError, match='video not found: .*nothing.avi'):
        open_video(str(tmp_path / 'nothing.avi'))
    if importlib.util.find_spec('cv2') is not None:
        empty = tmp_path / 'empty.mp4'
        empty.write_bytes(b'')
        with pytest.raises(DataError, match=f'{empty}: '):
            open_video(str(empty))


@needs_mediapipe
def test_open_video_streams_and_reopens():
    path = str(need(VIDEOS / 'skating' / 'axel_1A.mp4'))
    with open_video(path) as video:
        assert video.size == (1920, 1080) and video.fps == pytest.approx(30, abs=0.01) and video.frame_count == 107
        first = next(iter(video))
        again = next(iter(video))  # a file is read again from its start
        assert first.shape == (1080, 1920, 3) and first.dtype == np.uint8 and np.array_equal(first, again)


def test_native_stderr_silencing_is_shared_by_threads_and_undone(capfd):
    """The live path reads frames on one thread and runs pose on another, both silencing fd 2 now and then: the
    last one out must put the real stderr back (a naive save / restore per use can leave it on /dev/null)."""
    def chatter():
        for _ in range(300):
            with native_stderr_silenced():
                os.write(2, b'native chatter\n')
    capfd.readouterr()
    threads = [threading.Thread(target=chatter) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    os.write(2, b'shown\n')
    assert capfd.readouterr().err == 'shown\n'
