"""3D joints (mm, world Z up) -> a 2D FSD-format view through a camera that follows the skater.

The camera is the one that made FS-Jump3D's side view (`train_data.npy`), established to 1e-7 on every clip:
orthographic, looking along world +Y (image x = world X), 3400 mm of height filling 90% of a 1280x720 frame,
following the skater's MidHip horizontally in every frame and centred at 900 mm above the ice, every second
frame of the 60 fps capture. `yaw` turns the camera about the vertical (90 degrees: image x = world Y, the side
view's depth), `pitch` tilts it down, `roll` turns the image, a finite `distance` makes it a perspective camera
at that many mm from the followed point (the skater's size at that point unchanged), `scale` and `shift` move
the skater in the frame.
"""
import numpy as np

from ...skeleton import normalize_xy
from ...utils.registry import COMPONENTS
from .skeleton import valid_length

FRAME = (1280, 720)                    # width, height of the virtual frame (FSD's normalisation divides by these)
PX_PER_MM = 0.9 * FRAME[1] / 3400.0    # the side view's scale
CENTRE_HEIGHT = 900.0                  # mm above the ice at the frame's centre
CENTRE_JOINT = 8                       # MidHip: the point the camera follows


def resample(joints, step=2.0, phase=0.0):
    """(T, V, 3) -> frames at times phase + k * step (k = 0, 1, ...), linearly interpolated: 60 -> 30 fps is
    step 2; a step of 2 * s plays the motion s times faster."""
    T = len(joints)
    times = np.arange(phase, T - 1 + 1e-9, step) if T > 1 else np.zeros(1)
    lo = np.minimum(np.floor(times).astype(np.int64), T - 1)
    hi = np.minimum(lo + 1, T - 1)
    w = (times - lo)[:, None, None]
    return (1 - w) * joints[lo] + w * joints[hi]


def camera_axes(yaw, pitch):
    """Unit vectors (right, up, forward) of a camera turned `yaw` degrees about world Z from the side view
    (forward +Y, right +X) and tilted `pitch` degrees down."""
    a, b = np.radians(yaw), np.radians(pitch)
    right = np.array([np.cos(a), np.sin(a), 0.0])
    level = np.array([-np.sin(a), np.cos(a), 0.0])          # forward before the tilt
    z = np.array([0.0, 0.0, 1.0])
    return right, np.cos(b) * z + np.sin(b) * level, np.cos(b) * level - np.sin(b) * z


def project(joints, yaw=0.0, pitch=0.0, roll=0.0, distance=None, scale=1.0, shift=(0.0, 0.0)):
    """(T, V, 3) world mm -> (T, V, 2) pixels in the 1280x720 frame (y down) of a camera following the MidHip."""
    right, up, forward = camera_axes(yaw, pitch)
    followed = joints[:, CENTRE_JOINT:CENTRE_JOINT + 1].copy()
    followed[..., 2] = CENTRE_HEIGHT
    rel = joints - followed
    u, v = rel @ right, rel @ up
    if distance is not None:
        depth = np.maximum(distance + rel @ forward, 0.05 * distance)   # never behind the camera
        u, v = u * distance / depth, v * distance / depth
    px = scale * PX_PER_MM
    c, s = np.cos(np.radians(roll)), np.sin(np.radians(roll))
    x, y = px * (c * u - s * v), px * (s * u + c * v)
    return np.stack([FRAME[0] / 2 + shift[0] + x, FRAME[1] / 2 + shift[1] - y], -1)


def fsd_view(joints, step=2.0, phase=0.0, **camera):
    """(T, V, 3) mm at 60 fps -> (3, T', V, 1) FSD format: x/W - 0.5, y/H - 0.5, confidence 1, 30 fps."""
    xy = project(resample(np.asarray(joints, np.float64), step, phase), **camera)
    out = normalize_xy(np.concatenate([xy, np.ones(xy.shape[:-1] + (1,))], -1), *FRAME, norm='fsd')
    return np.ascontiguousarray(out.transpose(2, 0, 1)[..., None])


@COMPONENTS.register('transform')
class RandomCamera:
    """A 3D sample (3, T, V, 1) in mm at 60 fps -> its 2D view (3, T', V, 1) at 30 fps through a camera drawn
    for this sample and epoch: yaw uniform in `yaw`, pitch in `pitch` (degrees down), roll in `roll`, a
    perspective camera at a distance log-uniform in `distance` (mm), the skater's size times a factor in
    `scale`, moved by up to `shift` pixels, the motion played at a speed in `speed`, from a random first frame.
    The rest of the pipeline is the 2D one."""

    def __init__(self, yaw=(0, 360), pitch=(0, 30), roll=(-8, 8), distance=(4000, 40000), scale=(0.6, 1.4),
                 shift=(150, 80), speed=(0.9, 1.1)):
        self.yaw, self.pitch, self.roll, self.scale, self.speed = yaw, pitch, roll, scale, speed
        self.log_distance, self.shift = np.log(distance), np.asarray(shift, np.float64)

    def in_channels(self, out_channels):
        return 3

    def __call__(self, data, rng):
        joints = np.asarray(data[:, :valid_length(data), :, 0], np.float64).transpose(1, 2, 0)
        step = 2.0 * rng.uniform(*self.speed)
        return fsd_view(joints, step=step, phase=rng.uniform(0, step), yaw=rng.uniform(*self.yaw),
                        pitch=rng.uniform(*self.pitch), roll=rng.uniform(*self.roll),
                        distance=float(np.exp(rng.uniform(*self.log_distance))), scale=rng.uniform(*self.scale),
                        shift=rng.uniform(-1, 1, 2) * self.shift).astype(np.float32)
