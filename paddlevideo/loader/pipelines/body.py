"""Position- and size-free coordinates, and the noise of a video pose estimator, for models that must work on
poses from any camera: BodyNorm, PoseNoise."""
import numpy as np

from ...utils.registry import COMPONENTS
from .skeleton import present_joints


@COMPONENTS.register('transform')
class BodyNorm:
    """x, y in units of the skater's torso, centred on the skater: x on the MidHip of each frame (a camera that
    follows the skater, as FS-Jump3D's side view and most skating videos), y on the MidHip's mean height over the
    clip (so the jump's rise stays); x is first multiplied by `aspect` (the frame's width / height: FSD's x/W and
    y/H then share one unit). The torso is the median Neck-MidHip length over the frames holding both (nearly
    vertical in skating, so the same from every side; 1 when no frame holds both). Keeps x, y only (a video's
    confidence is not a motion-capture one); missing joints (x = y = 0) stay zero.
    """

    def __init__(self, aspect=16 / 9, center=8, neck=1):
        self.aspect, self.center, self.neck = float(aspect), int(center), int(neck)

    def __call__(self, data, rng):
        xy = np.array(data[:2], dtype=np.float64)
        xy[0] *= self.aspect
        present = present_joints(xy)                                     # (T, V, M)
        hip, neck = present[:, self.center], present[:, self.neck]     # (T, M)
        hip_mean = (xy[:, :, self.center] * hip).sum(1) / np.maximum(hip.sum(0), 1)      # (2, M)
        centre = np.empty_like(xy[:, :, self.center])                                      # (2, T, M)
        centre[0] = np.where(hip, xy[0, :, self.center], hip_mean[0])
        centre[1] = hip_mean[1]
        both = hip & neck
        torso = np.linalg.norm(xy[:, :, self.neck] - xy[:, :, self.center], axis=0)[both]
        size = float(np.median(torso)) if torso.size and np.median(torso) > 0 else 1.0
        out = np.where(present, (xy - centre[:, :, None]) / size, 0)
        return out.astype(np.float32)


@COMPONENTS.register('transform')
class PoseNoise:
    """Jitter every present joint by Gaussian noise of a standard deviation drawn per clip in [0, sigma] (in the
    units of the data, torso lengths after BodyNorm), and drop each joint of each frame with probability `drop`
    (x = y = 0, as a pose estimator's missed joint)."""

    def __init__(self, sigma=0.03, drop=0.02):
        self.sigma, self.drop = float(sigma), float(drop)

    def __call__(self, data, rng):
        out = np.array(data, dtype=np.float32)
        present = present_joints(out)
        keep = present & (rng.uniform(size=present.shape) >= self.drop)
        noise = rng.normal(0, rng.uniform(0, self.sigma), out[:2].shape)
        out[:2] = np.where(keep, out[:2] + noise, 0)
        return out
