"""UniformSampleFrames: mmaction2's / pyskl's skeleton sampler, in this project's `transform(data, rng)` form.

The valid frames (valid_length) are cut into `clip_len` equal segments and one frame is taken from each, so a clip
spans the whole action whatever its length:
- T >= 2 * clip_len: one frame drawn in each segment [i * T // clip_len, (i + 1) * T // clip_len);
- clip_len <= T < 2 * clip_len: every frame but T - clip_len of them, dropped at random places, in order;
- T < clip_len: clip_len consecutive indices from a start, taken modulo T, so a short clip loops (mmaction2's
  padding; the start is random in training, clip i of num_clips starts at i * T // num_clips in testing).
In test mode the draws come from a fresh legacy NumPy stream seeded with `seed` (255, mmaction2's) for every
sample, so the indices are mmaction2's own and the same on every run; in training they come from the sample's rng.

With num_clips > 1 (testing only) the output is (num_clips, C, clip_len, V, M): Compose runs the rest of the
pipeline on each clip alone, the loader gives (N, num_clips, ...) and evaluation averages the clips' scores per
sample (paddlevideo.tasks.train.evaluate).
"""
import numpy as np

from ...utils.config import number
from ...utils.errors import ConfigError
from ...utils.registry import COMPONENTS
from .skeleton import valid_length


def _randint(draw, high):
    """Integers in [0, high) from a numpy Generator (training) or a legacy RandomState (testing: mmaction2's
    stream)."""
    return draw.integers(0, high) if isinstance(draw, np.random.Generator) else draw.randint(high)


def _dense_clip(T, clip_len, draw):
    """clip_len of T frames (clip_len <= T < 2 * clip_len), in order: T - clip_len of the clip_len + 1 gaps
    between them get one skipped frame each."""
    skip = np.zeros(clip_len + 1, dtype=np.int64)
    skip[draw.choice(clip_len + 1, T - clip_len, replace=False)] = 1
    return np.arange(clip_len) + np.cumsum(skip)[:-1]


def _segment_clip(T, clip_len, draw):
    """One frame drawn from each of clip_len equal segments of T frames (T >= 2 * clip_len)."""
    bounds = np.arange(clip_len + 1) * T // clip_len
    return bounds[:-1] + _randint(draw, np.diff(bounds))


@COMPONENTS.register('transform')
class UniformSampleFrames:
    """clip_len frames spread uniformly over the valid frames, num_clips times (see the module docstring)."""

    def __init__(self, clip_len, num_clips=1, test_mode=False, seed=255):
        self.clip_len = number('UniformSampleFrames.clip_len', clip_len, int, low=1)
        self.num_clips = number('UniformSampleFrames.num_clips', num_clips, int, low=1)
        self.test_mode, self.seed = bool(test_mode), int(seed)
        if self.num_clips > 1 and not self.test_mode:
            raise ConfigError(f'UniformSampleFrames: num_clips {self.num_clips} needs test_mode: True (several '
                              f'clips are for testing, their scores averaged; training takes one clip)')

    def indices(self, T, rng):
        """(num_clips, clip_len) frame indices into the T valid frames."""
        draw = np.random.RandomState(self.seed) if self.test_mode else rng
        W, clips = self.clip_len, []
        for i in range(self.num_clips):
            if T < W:
                if self.test_mode:
                    start = i if T < self.num_clips else i * T // self.num_clips
                else:
                    start = int(_randint(draw, T))
                clips.append(np.arange(start, start + W) % T)
            elif T < 2 * W:
                clips.append(_dense_clip(T, W, draw))
            else:
                clips.append(_segment_clip(T, W, draw))
        return np.stack(clips).astype(np.int64)

    def __call__(self, data, rng):
        C, _, V, M = data.shape
        T = valid_length(data)
        if T == 0:
            out = np.zeros((self.num_clips, C, self.clip_len, V, M), dtype=np.float32)
        else:
            out = np.stack([np.asarray(data[:, index], dtype=np.float32) for index in self.indices(T, rng)])
        return out if self.num_clips > 1 else out[0]
