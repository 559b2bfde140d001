"""Pose estimators: a video frame in, one skater's OpenPose BODY_25 joints out.

The interface is a callable: estimator(frame_bgr HxWx3 uint8) -> (25, 3) float32 in BODY_25 order
(paddlevideo.skeleton.JOINT_NAMES['fsd10']), x and y in pixels of that frame, confidence in [0, 1], all zeros
when nobody is seen; close() frees it and it is a context manager. MediaPipe runs here; OpenPose's JSON
(openpose.py) yields the same arrays, and a future estimator plugs in beside them through the registry.

Joints are in pixels until the last step, to_fsd_layout, which applies the model's coordinate normalisation.
"""
import numpy as np

from ..skeleton import JOINT_NAMES, normalize_xy
from ..utils.errors import ConfigError, DataError
from ..utils.fileio import atomic_write
from ..utils.registry import COMPONENTS
from .video_io import VIDEO_REQUIREMENTS, Video, import_cv2, native_stderr_silenced, open_video

NUM_JOINTS = len(JOINT_NAMES['fsd10'])

# BODY_25 joint <- MediaPipe landmark (mediapipe.solutions.pose.PoseLandmark; "left" is the person's left in both).
# Neck and MidHip are midpoints of the shoulders and of the hips; the small toes (20, 23) have no landmark.
MEDIAPIPE_TO_BODY25 = {
    0: 0, 2: 12, 3: 14, 4: 16, 5: 11, 6: 13, 7: 15, 9: 24, 10: 26, 11: 28, 12: 23, 13: 25, 14: 27,
    15: 5, 16: 2, 17: 8, 18: 7, 19: 31, 21: 29, 22: 32, 24: 30}
MEDIAPIPE_MIDPOINTS = {1: (11, 12), 8: (23, 24)}


def body25_from_mediapipe(landmarks):
    """(33, 3) MediaPipe landmarks (x, y, visibility) -> (25, 3) BODY_25 joints (x, y, confidence).

    A midpoint joint takes the lower visibility of its two landmarks; joints without a landmark are (0, 0, 0)."""
    landmarks = np.asarray(landmarks, dtype=np.float32)
    joints = np.zeros((NUM_JOINTS, 3), np.float32)
    for joint, landmark in MEDIAPIPE_TO_BODY25.items():
        joints[joint] = landmarks[landmark]
    for joint, (a, b) in MEDIAPIPE_MIDPOINTS.items():
        joints[joint, :2] = (landmarks[a, :2] + landmarks[b, :2]) / 2
        joints[joint, 2] = min(landmarks[a, 2], landmarks[b, 2])
    return joints


def keep_inside(joints, width, height):
    """Joints outside the frame become missing (0, 0, 0): OpenPose, which FSD-10 was built with, only places a
    joint on the image, so a model trained on it has never seen one beyond the border."""
    joints = np.array(joints, dtype=np.float32)
    outside = ((joints[..., 0] < 0) | (joints[..., 0] >= width) | (joints[..., 1] < 0) | (joints[..., 1] >= height))
    joints[outside] = 0
    return joints


def skeleton_box(joints):
    """(x0, y0, x1, y1) around the joints with confidence > 0, or None when there are none."""
    seen = joints[:, 2] > 0
    if not seen.any():
        return None
    xy = joints[seen, :2]
    return (*xy.min(axis=0), *xy.max(axis=0))


def box_iou(a, b):
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return float(w * h / union) if union > 0 else 0.0


class MainSkater:
    """Keeps one person from frame to frame among several (OpenPose's `people`, or any multi-person estimator).

    Rule: the person whose box (around the joints with confidence > 0) overlaps the last kept skater's box most,
    if that overlap is at least `min_iou` (tracking); otherwise (the first frame, or nobody near the skater) the
    largest and most confident person: the highest summed confidence times box diagonal. A frame with nobody
    keeps the last position, so the skater is picked up again where they were lost."""

    def __init__(self, min_iou=0.3):
        self.min_iou = min_iou
        self.last_box = None

    def __call__(self, people):
        """(P, 25, 3) people of one frame -> (25, 3) the main skater (zeros when P is 0 or nobody has a joint)."""
        boxes = [skeleton_box(p) for p in people]
        found = [i for i, b in enumerate(boxes) if b is not None]
        if not found:
            return np.zeros((NUM_JOINTS, 3), np.float32)
        best = None
        if self.last_box is not None:
            overlap = {i: box_iou(boxes[i], self.last_box) for i in found}
            tracked = max(found, key=overlap.get)
            if overlap[tracked] >= self.min_iou:
                best = tracked
        if best is None:
            best = max(found, key=lambda i: float(people[i][:, 2].sum()) * float(
                np.hypot(boxes[i][2] - boxes[i][0], boxes[i][3] - boxes[i][1])))
        self.last_box = boxes[best]
        return np.asarray(people[best], np.float32)


def import_mediapipe_pose():
    try:
        from mediapipe.python.solutions import pose
    except ImportError:
        raise ConfigError(f'the MediaPipe pose estimator needs mediapipe, which is not installed: '
                          f'{VIDEO_REQUIREMENTS}') from None
    return pose


@COMPONENTS.register('pose_estimator', 'mediapipe')
class MediaPipePose:
    """MediaPipe's legacy BlazePose (mediapipe.solutions.pose, model_complexity=1, whose models ship in the wheel
    and run offline), mapped to BODY_25 in pixels.

    MediaPipe tracks one person from frame to frame and, once it loses them, detects on the whole frame again,
    where a small skater on a wide rink is often missed. With `redetect_crop`, a lost frame is tried once more on
    a square crop around the last position (side `crop_scale` times the skeleton's size), for up to `lost_frames`
    frames after the skater was last seen."""

    def __init__(self, model_complexity=1, min_detection_confidence=0.5, min_tracking_confidence=0.5,
                 redetect_crop=True, crop_scale=4.0, lost_frames=30):
        if model_complexity != 1:
            raise ConfigError(f'MediaPipe model_complexity {model_complexity} downloads its model at run time; '
                              f'only 1 (shipped in the mediapipe wheel) runs offline')
        mp_pose = import_mediapipe_pose()
        self._cv2 = import_cv2()
        options = dict(model_complexity=1, min_detection_confidence=min_detection_confidence)
        with native_stderr_silenced():
            self._tracker = mp_pose.Pose(min_tracking_confidence=min_tracking_confidence, **options)
            self._cropper = mp_pose.Pose(static_image_mode=True, **options) if redetect_crop else None
            # A graph opens its calculators (and TFLite logs its delegates) on its own threads after start: one
            # frame through each graph waits for that, so it happens while fd 2 is silenced, not over our lines.
            blank = np.zeros((64, 64, 3), np.uint8)
            for model in (self._tracker, self._cropper):
                if model is not None:
                    model.process(blank)
        self.crop_scale, self.lost_frames = crop_scale, lost_frames
        self._last_box, self._lost = None, 0

    def _landmarks(self, which, rgb):
        """(33, 3) landmarks in pixels of `rgb` (x, y, visibility), or None."""
        model = self._tracker if which == 'tracker' else self._cropper
        with native_stderr_silenced():
            result = model.process(rgb)
        if result.pose_landmarks is None:
            return None
        h, w = rgb.shape[:2]
        return np.array([(p.x * w, p.y * h, p.visibility) for p in result.pose_landmarks.landmark], np.float32)

    def _crop(self, width, height):
        """(x0, y0, side) of a square around the last box, inside the frame."""
        x0, y0, x1, y1 = self._last_box
        side = int(min(max(x1 - x0, y1 - y0, 32) * self.crop_scale, width, height))
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        left = int(np.clip(cx - side / 2, 0, width - side))
        top = int(np.clip(cy - side / 2, 0, height - side))
        return left, top, side

    def __call__(self, frame_bgr):
        if not (isinstance(frame_bgr, np.ndarray) and frame_bgr.ndim == 3 and frame_bgr.shape[2] == 3
                and frame_bgr.dtype == np.uint8):
            raise DataError(f'a pose estimator takes an H x W x 3 uint8 BGR frame, got '
                            f'{getattr(frame_bgr, "shape", type(frame_bgr))} {getattr(frame_bgr, "dtype", "")}')
        height, width = frame_bgr.shape[:2]
        rgb = self._cv2.cvtColor(frame_bgr, self._cv2.COLOR_BGR2RGB)
        landmarks = self._landmarks('tracker', rgb)
        if landmarks is None and self._cropper is not None and self._last_box is not None:
            left, top, side = self._crop(width, height)
            landmarks = self._landmarks('cropper', np.ascontiguousarray(rgb[top:top + side, left:left + side]))
            if landmarks is not None:
                landmarks[:, 0] += left
                landmarks[:, 1] += top
        if landmarks is None:
            self._lost += 1
            if self._lost > self.lost_frames:
                self._last_box = None
            return np.zeros((NUM_JOINTS, 3), np.float32)
        joints = keep_inside(body25_from_mediapipe(landmarks), width, height)
        self._last_box, self._lost = skeleton_box(joints) or self._last_box, 0
        return joints

    def close(self):
        with native_stderr_silenced():
            for model in (self._tracker, self._cropper):
                if model is not None:
                    model.close()
        self._tracker = self._cropper = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def build_pose_estimator(name='mediapipe', **options):
    """A pose estimator by registry name ('mediapipe' / 'MediaPipePose'); an unknown name lists the known ones."""
    return COMPONENTS.build('pose_estimator', {'name': name, **options})


def skeleton_from_video(video, estimator, every=1, max_frames=None):
    """(T, 25, 3) joints in pixels, one row per frame read (every `every`-th frame, at most `max_frames`).

    `video` is a path (opened and closed here) or an opened video_io.Video (left open)."""
    if every < 1:
        raise ConfigError(f'every must be a positive number of frames, got {every}')
    opened = video if isinstance(video, Video) else open_video(video)
    try:
        rows = []
        for i, frame in enumerate(opened):
            if max_frames is not None and len(rows) >= max_frames:
                break
            if i % every == 0:
                rows.append(estimator(frame))
    finally:
        if opened is not video:
            opened.close()
    return np.stack(rows) if rows else np.zeros((0, NUM_JOINTS, 3), np.float32)


def frames_with_skeleton(joints):
    """(..., T, 25, 3) -> (..., T) bool: frames where some joint has confidence > 0."""
    return (np.asarray(joints)[..., 2] > 0).any(axis=-1)


def to_fsd_layout(joints, width, height, norm='fsd'):
    """(T, 25, 3) or (N, T, 25, 3) joints in pixels -> (N, 3, T, 25, 1) float32, x and y normalised by
    paddlevideo.skeleton.normalize_xy ('fsd': x/W - 0.5, FSD-10's scale; 'unit': 2x/W - 1). Frames with nobody
    stay zero where they are, so the only padding is after the last frame with a skeleton."""
    joints = np.asarray(joints)
    if joints.ndim == 3:
        joints = joints[None]
    if joints.ndim != 4 or joints.shape[-2:] != (NUM_JOINTS, 3):
        raise DataError(f'expected joints of shape (N, T, {NUM_JOINTS}, 3), got {joints.shape}')
    return np.ascontiguousarray(normalize_xy(joints, width, height, norm).transpose(0, 3, 1, 2)[..., None])


def write_skeleton_npy(path, joints, width, height, norm='fsd'):
    """Write (T, 25, 3) pixel joints as one FSD-layout sample, 1 x 3 x T x 25 x 1 float32 (to_fsd_layout),
    atomically (a temporary file renamed into place). Returns the array written."""
    sample = to_fsd_layout(joints, width, height, norm)
    atomic_write(path, lambda f: np.save(f, sample))
    return sample
