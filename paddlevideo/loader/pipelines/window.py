"""JumpWindow: a fixed window placed by the jump's apex, so a clip looks like the video tool's sliding windows."""
import numpy as np

from ...utils.config import number
from ...utils.errors import ConfigError
from ...utils.registry import COMPONENTS
from .skeleton import present_joints, valid_length


def hip_height(data, joint=8, smooth=5):
    """(T,) height of `joint` (MidHip) in the image over the valid frames (-y, y pointing down), a moving average of
    `smooth` frames of the frames where it is present; -inf where it is not."""
    T = valid_length(data)
    seen = present_joints(data[:, :T])[:, joint, 0]
    kernel = np.ones(smooth)
    y = np.convolve(np.where(seen, data[1, :T, joint, 0], 0), kernel, 'same')
    count = np.convolve(seen.astype(np.float64), kernel, 'same')
    return np.where(seen, -y / np.maximum(count, 1), -np.inf)


def apex_frame(data, joint=8, smooth=5):
    """Frame where `joint` (MidHip) is highest in the image (hip_height); the middle frame when it is never seen."""
    height = hip_height(data, joint, smooth)
    return int(np.argmax(height)) if np.isfinite(height).any() else len(height) // 2


def jump_apexes(data, rise, joint=8, smooth=5, gap=10):
    """Frames of the jumps of a clip, a combination's too: the highest point of the MidHip and every other local
    high (the highest within `gap` frames either side, at least `gap` frames from the clip's ends, where a skater
    straightening up is no jump) that rises above the hip's median height at least `rise` of the way the highest
    point does."""
    height = hip_height(data, joint, smooth)
    seen = np.isfinite(height)
    if not seen.any():
        return [len(height) // 2]
    top = int(np.argmax(height))
    rise_of = height - np.median(height[seen])
    highs = [t for t in range(gap, len(height) - gap)
             if seen[t] and height[t] == height[t - gap:t + gap + 1].max() and rise_of[t] >= rise * rise_of[top]]
    return sorted(set(highs) | {top})


@COMPONENTS.register('transform')
class JumpWindow:
    """Cut `window_size` frames so that the apex falls `apex` of the way into the window: a number (testing a
    whole clip), or a [low, high] range drawn from for every sample (training: the jump anywhere a sliding window
    may hold it). The window stays inside the clip (moved in from an end where the apex is too near it), as a
    window sliding over a video does. A clip no longer than the window, as a video window is, passes through
    unchanged (zero-padded at the end).

    `num_clips` > 1 (testing) cuts that many windows, the apex at evenly spaced places from low to high of the
    range, and gives (num_clips, C, window_size, V, M): the clips' scores are averaged per sample, as the windows
    sliding over a video that hold the jump are, and as UniformSampleFrames' clips are.

    `combination_rise` (a fraction) places the window by the middle of the clip's first and last jump instead
    (jump_apexes: other highs of the hip rising at least that fraction of the highest): a window on one jump of a
    combination looks like that jump alone, so a combination is cut where it shows as one, between its jumps."""

    def __init__(self, window_size, apex=0.6, joint=8, num_clips=1, combination_rise=None):
        self.window_size, self.apex, self.joint = int(window_size), apex, int(joint)
        self.rise = None if combination_rise is None else number('JumpWindow.combination_rise', combination_rise,
                                                                  low=0, high=1, low_open=True)
        self.num_clips = number('JumpWindow.num_clips', num_clips, int, low=1)
        if self.num_clips > 1 and not isinstance(apex, (list, tuple)):
            raise ConfigError(f'JumpWindow: num_clips {self.num_clips} needs apex as a [low, high] range (the '
                              f'windows put the apex at evenly spaced places in it), got {apex!r}')

    def __call__(self, data, rng):
        if self.num_clips > 1:
            places = np.linspace(*self.apex, self.num_clips)
        else:
            places = [rng.uniform(*self.apex) if isinstance(self.apex, (list, tuple)) else float(self.apex)]
        C, _, V, M = data.shape
        T, W = valid_length(data), self.window_size
        if T <= W:
            out = np.zeros((C, W, V, M), np.float32)
            out[:, :T] = data[:, :T]
            windows = [out] * len(places)
        else:
            if self.rise is None:
                centre = apex_frame(data, self.joint)
            else:
                jumps = jump_apexes(data, self.rise, self.joint)
                centre = (jumps[0] + jumps[-1]) // 2
            starts = [min(max(centre - int(round(where * W)), 0), T - W) for where in places]
            windows = [data[:, start:start + W].astype(np.float32) for start in starts]
        return np.stack(windows) if self.num_clips > 1 else windows[0]
