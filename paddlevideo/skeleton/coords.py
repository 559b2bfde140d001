"""Pixel coordinates <-> the normalised coordinates a model was trained on.

'fsd': x/W - 0.5, y/H - 0.5 (about [-0.5, 0.5]), as FSD-10's own build scripts scale OpenPose output.
'unit': 2x/W - 1, 2y/H - 1 ([-1, 1]), as the Penn Action arrays in ../shared.
A joint with confidence 0 is missing: its x and y are 0 in either scale.
"""
import numpy as np

from ..utils.errors import ConfigError

NORMS = ('fsd', 'unit')
_SCALE = {'fsd': (1.0, -0.5), 'unit': (2.0, -1.0)}  # norm -> (a, b): x' = a * x / W + b


def _scale(norm):
    if norm not in _SCALE:
        raise ConfigError(f"unknown coordinate normalisation '{norm}'; known: {', '.join(NORMS)}")
    return _SCALE[norm]


def normalize_xy(joints, width, height, norm='fsd'):
    """(..., 3) x, y in pixels and confidence -> the same with x, y normalised; missing joints stay (0, 0, 0)."""
    a, b = _scale(norm)
    out = np.array(joints, dtype=np.float32)
    present = out[..., 2] > 0
    out[..., 0] = np.where(present, a * out[..., 0] / width + b, 0)
    out[..., 1] = np.where(present, a * out[..., 1] / height + b, 0)
    out[..., 2] = np.where(present, out[..., 2], 0)
    return out


def denormalize_xy(joints, width, height, norm='fsd'):
    """The inverse of normalize_xy for x, y (confidence passes through); for drawing."""
    a, b = _scale(norm)
    out = np.array(joints, dtype=np.float32)
    out[..., 0] = (out[..., 0] - b) * width / a
    out[..., 1] = (out[..., 1] - b) * height / a
    return out
