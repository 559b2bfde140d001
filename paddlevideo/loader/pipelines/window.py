"""JumpWindow: a fixed window placed by the jump's apex, so a clip looks like the video tool's sliding windows."""
import numpy as np

from ...utils.registry import COMPONENTS
from .skeleton import present_joints, valid_length


def apex_frame(data, joint=8, smooth=5):
    """Frame where `joint` (MidHip) is highest in the image (smallest y, y pointing down), over a moving average
    of `smooth` frames of the frames where it is present; the middle frame when it never is."""
    T = valid_length(data)
    seen = present_joints(data[:, :T])[:, joint, 0]
    if not seen.any():
        return T // 2
    kernel = np.ones(smooth)
    y = np.convolve(np.where(seen, data[1, :T, joint, 0], 0), kernel, 'same')
    count = np.convolve(seen.astype(np.float64), kernel, 'same')
    height = np.where(seen, -y / np.maximum(count, 1), -np.inf)
    return int(np.argmax(height))


@COMPONENTS.register('transform')
class JumpWindow:
    """Cut `window_size` frames so that the apex falls `apex` of the way into the window: a number (testing a
    whole clip), or a [low, high] range drawn from for every sample (training: the jump anywhere a sliding window
    may hold it). The window stays inside the clip (moved in from an end where the apex is too near it), as a
    window sliding over a video does. A clip no longer than the window, as a video window is, passes through
    unchanged (zero-padded at the end)."""

    def __init__(self, window_size, apex=0.6, joint=8):
        self.window_size, self.apex, self.joint = int(window_size), apex, int(joint)

    def __call__(self, data, rng):
        C, _, V, M = data.shape
        T, W = valid_length(data), self.window_size
        out = np.zeros((C, W, V, M), np.float32)
        if T <= W:
            out[:, :T] = data[:, :T]
            return out
        where = rng.uniform(*self.apex) if isinstance(self.apex, (list, tuple)) else float(self.apex)
        start = min(max(apex_frame(data, self.joint) - int(round(where * W)), 0), T - W)
        out[:] = data[:, start:start + W]
        return out
