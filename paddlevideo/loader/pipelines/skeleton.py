"""Skeleton transforms on one sample (C, T, V, M); each is `transform(data, rng) -> data`.

Sampleframe (alias AutoPadding) and SkeletonNorm follow PaddleVideo, with its bugs fixed:
- the valid length is the last frame holding any non-zero value (PaddleVideo's `sum > 0` cuts clips short
  whose last frames have a negative x + y sum);
- uniform sampling picks indices in [0, T_valid - 1] (PaddleVideo's linspace(0, T, W) can pick frame T, a
  padding frame, or index past the end of a full array);
- random sampling keeps the frames in temporal order (PaddleVideo's random choice shuffles them).
"""
import inspect

import numpy as np

from ...utils.config import number
from ...utils.errors import ConfigError
from ...utils.registry import COMPONENTS
from ...skeleton import bone_parents, flip_permutation, layout_spec


def valid_length(data):
    """Index of the last frame holding any non-zero value, plus one (0 for an all-zero sample)."""
    nonzero = np.flatnonzero(np.any(data != 0, axis=(0, 2, 3)))
    return int(nonzero[-1]) + 1 if nonzero.size else 0


def present_joints(data):
    """(T, V, M) True where a joint is present: x = y = 0 marks a missing joint (and padding)."""
    return np.any(data[:2] != 0, axis=0)


@COMPONENTS.register('transform', 'AutoPadding')
class Sampleframe:
    """Valid frames -> a fixed window: zero-pad a short clip, sample a long one (uniformly, or in order at random)."""

    def __init__(self, window_size, random_pad=False):
        self.window_size = number('Sampleframe.window_size', window_size, int, low=1)
        self.random_pad = bool(random_pad)

    def __call__(self, data, rng):
        C, _, V, M = data.shape
        T, W = valid_length(data), self.window_size
        if T > W:
            if self.random_pad:
                index = np.sort(rng.choice(T, W, replace=False))
            else:
                index = np.linspace(0, T - 1, W).round().astype(np.int64)
            return np.asarray(data[:, index], dtype=np.float32)
        out = np.zeros((C, W, V, M), dtype=np.float32)
        begin = int(rng.integers(0, W - T + 1)) if self.random_pad and T < W else 0
        out[:, begin:begin + T] = data[:, :T]
        return out


@COMPONENTS.register('transform')
class SkeletonNorm:
    """Centre x, y on one joint (the layout's centre unless `center` is given: 8, MidHip, for BODY_25), keep the
    first `axis` channels, as float32.

    per_frame=True is PaddleVideo's: every frame on its own centre joint (a missing joint then lands at minus
    the centre). per_frame=False centres the clip on the centre joint's mean over the frames where it is
    present, so the body's own motion (a jump, a travelling step) stays in the data; missing joints (x = y = 0)
    and padding stay zero.
    """

    def __init__(self, axis=2, squeeze=False, center=None, per_frame=True, layout='fsd10'):
        self.center = layout_spec(layout)['center'] if center is None else int(center)
        self.axis = number('SkeletonNorm.axis', axis, int, low=1)
        self.squeeze, self.per_frame = squeeze, bool(per_frame)

    def __call__(self, data, rng):
        if self.per_frame:
            data = data - data[:, :, self.center:self.center + 1, :]
        else:
            data = np.array(data, dtype=np.float32)
            present = present_joints(data)
            seen = present[:, self.center]                                         # (T, M)
            centre = (data[:2, :, self.center] * seen).sum(1) / np.maximum(seen.sum(0), 1)   # (2, M)
            data[:2] -= np.where(present, centre[:, None, None, :], 0)
        data = np.ascontiguousarray(data[:self.axis], dtype=np.float32)
        return data[..., 0] if self.squeeze else data


@COMPONENTS.register('transform')
class Iden:
    """PaddleVideo's identity transform: the sample as float32, every channel kept (its label_expand only shapes
    PaddleVideo's own label batches)."""

    def __init__(self, label_expand=True):
        pass

    def __call__(self, data, rng):
        return np.asarray(data, dtype=np.float32)


@COMPONENTS.register('transform')
class DropJoints:
    """Zero the listed joints in every channel (missing: x = y = 0), so a skeleton source that has joints the
    training data never had (MediaPipe's feet for a model trained without them) gives the model what it knows.
    Put it first in both pipelines."""

    def __init__(self, joints):
        self.joints = sorted({int(j) for j in joints})

    def __call__(self, data, rng):
        if self.joints and not 0 <= self.joints[0] <= self.joints[-1] < data.shape[2]:
            raise ConfigError(f'DropJoints: joints {self.joints} out of range for V={data.shape[2]} joints')
        out = np.array(data, dtype=np.float32)
        out[:, :, self.joints] = 0
        return out


@COMPONENTS.register('transform')
class RandomCrop:
    """Keep a random contiguous part (a fraction in [min_ratio, 1]) of the valid frames, in order, then re-pad.

    With `frames: [lo, hi]`, a draw of probability `frames_prob` keeps instead a run of lo..hi frames (the whole
    clip when it is shorter): what a video's sliding window holds. A model trained on whole clips squeezed into
    its window knows actions only at that speed and from their start (docs/video.md: Penn Action's clean-and-jerk).
    """

    def __init__(self, min_ratio=0.7, frames=None, frames_prob=0.5):
        self.min_ratio = number('RandomCrop.min_ratio', min_ratio, low=0, high=1, low_open=True)
        if frames is not None:
            if not isinstance(frames, (list, tuple)) or len(frames) != 2:
                raise ConfigError(f'RandomCrop.frames: expected [low, high] frame counts, got {frames!r}')
            low = int(number('RandomCrop.frames', frames[0], low=1))
            frames = (low, int(number('RandomCrop.frames', frames[1], low=low)))
        self.frames, self.frames_prob = frames, number('RandomCrop.frames_prob', frames_prob, low=0, high=1)

    def __call__(self, data, rng):
        T = valid_length(data)
        if T < 2:
            return data
        if self.frames is not None and rng.uniform() < self.frames_prob:
            length = min(T, int(rng.integers(self.frames[0], self.frames[1] + 1)))
        else:
            length = max(1, int(round(T * rng.uniform(self.min_ratio, 1.0))))
        start = int(rng.integers(0, T - length + 1))
        out = np.zeros_like(data)
        out[:, :length] = data[:, start:start + length]
        return out


@COMPONENTS.register('transform')
class RandomRotateScale:
    """Rotate x, y by up to +-max_angle degrees and scale by a factor in `scale`; zeros stay zero."""

    def __init__(self, max_angle=10.0, scale=(0.9, 1.1)):
        self.max_angle = number('RandomRotateScale.max_angle', max_angle, low=0, high=180)
        if not isinstance(scale, (list, tuple)) or len(scale) != 2:
            raise ConfigError(f'RandomRotateScale.scale: expected [low, high], got {scale!r}')
        low = number('RandomRotateScale.scale', scale[0], low=0, low_open=True)
        self.scale = (low, number('RandomRotateScale.scale', scale[1], low=low))

    def __call__(self, data, rng):
        a = np.deg2rad(rng.uniform(-self.max_angle, self.max_angle))
        s = rng.uniform(*self.scale)
        rot = s * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]], dtype=np.float32)
        out = np.array(data, dtype=np.float32)
        out[:2] = np.einsum('ij,jtvm->itvm', rot, out[:2])
        return out


@COMPONENTS.register('transform')
class RandomFlip:
    """Mirror x (x -> -x) and swap left / right joints of `layout`, with probability `prob`."""

    def __init__(self, prob=0.5, layout='fsd10'):
        self.prob = number('RandomFlip.prob', prob, low=0, high=1)
        self.perm = flip_permutation(layout)

    def __call__(self, data, rng):
        if rng.uniform() >= self.prob:
            return data
        out = np.array(data[:, :, self.perm], dtype=np.float32)
        out[0] = -out[0]
        return out


def motion(feature, valid):
    """Frame t+1 minus frame t of `feature` (C, T, V, M) where both ends are `valid` (T, V, M), else 0."""
    out = np.zeros_like(feature)
    out[:, :-1] = np.where(valid[1:] & valid[:-1], feature[:, 1:] - feature[:, :-1], 0)
    return out


@COMPONENTS.register('transform')
class GenSkeFeat:
    """Features stacked on the channel axis, in the order of `feats` (mmaction2's names): 'j' the sample itself,
    'b' bones (x, y of each joint minus its parent's on the layout's tree from the centre), 'jm' / 'bm' joint /
    bone motion (frame t+1 minus frame t). A bone or motion with a missing end (x = y = 0) is zero, so padding
    stays zero. Channels out: C for 'j', 2 for each other feature; MODEL.backbone.in_channels is their sum.
    """

    FEATS = ('j', 'b', 'jm', 'bm')

    def __init__(self, feats=('j', 'b'), layout='fsd10'):
        unknown = [f for f in feats if f not in self.FEATS]
        if unknown or not feats:
            raise ConfigError(f"GenSkeFeat: unknown feats {unknown or '[]'}; known: {', '.join(self.FEATS)}")
        self.feats, self.parent = list(feats), bone_parents(layout)

    def in_channels(self, out_channels):
        """Channels this transform needs to give `out_channels`."""
        return out_channels - 2 * sum(f != 'j' for f in self.feats) if 'j' in self.feats else 2

    def __call__(self, data, rng):
        xy = np.asarray(data[:2], dtype=np.float32)
        present = present_joints(xy)
        bone_valid = present & present[:, self.parent]
        bone = np.where(bone_valid, xy - xy[:, :, self.parent], 0)
        feature = {'j': lambda: np.asarray(data, dtype=np.float32), 'b': lambda: bone,
                   'jm': lambda: motion(xy, present), 'bm': lambda: motion(bone, bone_valid)}
        return np.concatenate([feature[f]() for f in self.feats], axis=0)


class Compose:
    """The PIPELINE.<split> section: `sample` first, then each `transform` entry in order.

    `layout` is the model's skeleton layout (MODEL.backbone.layout): every transform that takes a layout gets it
    from there, so it is written once; a transform that names another layout is refused. `window` (the model's,
    INFERENCE.window_size) is the window_size of every transform that takes one and names none.
    """

    def __init__(self, pipeline_cfg, layout=None, window=None):
        cfg = pipeline_cfg or {}
        steps = []
        if cfg.get('sample'):
            steps.append(dict(cfg['sample']))
        for entry in cfg.get('transform') or []:
            if isinstance(entry, str):
                entry = {entry: None}
            if not isinstance(entry, dict) or len(entry) != 1:
                raise ConfigError(f'PIPELINE transform entry {entry}: expected one transform name, with its options '
                                  f'under it')
            (name, args), = entry.items()
            steps.append({'name': name, **(args or {})})
        for step in steps:
            cls = COMPONENTS.get('transform', step['name']) if 'name' in step else None
            takes = inspect.signature(cls).parameters if cls else {}
            if window is not None and 'window_size' in takes:
                step.setdefault('window_size', window)
            if layout is not None and 'layout' in takes and step.setdefault('layout', layout) != layout:
                raise ConfigError(f"PIPELINE {step['name']}: layout '{step['layout']}' but the model's is "
                                  f"'{layout}' (MODEL.backbone.layout); leave it out to use the model's")
        self.transforms = [COMPONENTS.build('transform', s) for s in steps]

    def __call__(self, data, rng, start=0):
        for i in range(start, len(self.transforms)):
            out = self.transforms[i](data, rng)
            if out.ndim == data.ndim + 1:  # several clips (UniformSampleFrames): the rest runs on each clip alone
                return np.stack([self(clip, rng, i + 1) for clip in out])
            data = out
        return data

    def in_channels(self, out_channels):
        """Channels a stored sample needs so that the pipeline gives `out_channels` (the model's)."""
        for t in reversed(self.transforms):
            out_channels = t.in_channels(out_channels) if hasattr(t, 'in_channels') else out_channels
        return out_channels
