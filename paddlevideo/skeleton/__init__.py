"""Skeleton layouts and coordinate normalisations: the ground floor that the loader, the model and the video path
all import (it imports nothing of the project's but its errors)."""
from .coords import NORMS, denormalize_xy, normalize_xy  # noqa: F401
from .layouts import (FLIP_PAIRS, JOINT_NAMES, LAYOUTS, bone_parents, flip_permutation, layout_spec,  # noqa: F401
                      mirror_frames)
