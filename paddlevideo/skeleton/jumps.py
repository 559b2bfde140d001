"""What a figure-skating jump looks like in 3D joints (mm, world Z up, BODY_25): when the skater is in the air,
which frames are free of any jump, and which foot carries the skater into the takeoff.

The takeoff feet are the rules of the sport for a counter-clockwise skater (mirrored for a clockwise one):
Axel, Flip, Lutz and Salchow take off from the left foot, Loop and Toeloop from the right (Toeloop and Flip /
Lutz with the other foot's toe pick). Before the takeoff the skater glides on that foot, so it is the lower
one; that is what `gliding_foot` measures, and what lets a labelled set be checked against the rules.
"""
import re

import numpy as np

from .layouts import JOINT_NAMES

_J = {name: i for i, name in enumerate(JOINT_NAMES['fsd10'])}
HIP, LEFT_HIP, RIGHT_HIP, LEFT_ANKLE, RIGHT_ANKLE = (_J[n] for n in ('MidHip', 'LHip', 'RHip', 'LAnkle', 'RAnkle'))
UP = 2
TAKEOFF_FOOT = {'axel': 'left', 'flip': 'left', 'lutz': 'left', 'salchow': 'left', 'loop': 'right',
                'toeloop': 'right'}


def takeoff_foot(class_name, clockwise=False):
    """'left' / 'right' for a single jump's name (any case, spaces or hyphens: 'Toe loop'), else None; the
    other foot for a clockwise skater."""
    foot = TAKEOFF_FOOT.get(re.sub('[^a-z]', '', str(class_name).lower()))
    return {'left': 'right', 'right': 'left'}.get(foot) if clockwise and foot else foot


def clockwise(joints):
    """Whether the skater turns clockwise seen from above: the hips' direction over the flight frames (over the
    whole clip where the hip never rises)."""
    flight = np.flatnonzero(flight_frames(joints))
    span = slice(flight[0], flight[-1] + 1) if len(flight) else slice(None)
    hips = joints[span, LEFT_HIP, :2] - joints[span, RIGHT_HIP, :2]
    turn = np.unwrap(np.arctan2(hips[:, 1], hips[:, 0]))
    return bool(turn[-1] < turn[0])


def flight_frames(joints, rise=0.5):
    """(T, V, 3) mm -> bool (T,): frames where the MidHip is above its median height by more than `rise` of the
    way to its highest point (the jumps: every one of a combination rises well above the skating height)."""
    height = joints[:, HIP, UP]
    median = np.median(height)
    return height > median + rise * (height.max() - median)


def jump_free_runs(joints, margin, min_frames):
    """[(start, stop)] of the runs of at least `min_frames` frames that are more than `margin` frames away from
    every flight frame: run-in, glide and landing edges, no takeoff, flight or landing."""
    near = np.convolve(flight_frames(joints).astype(np.int64), np.ones(2 * margin + 1, np.int64), 'same') > 0
    edges = np.flatnonzero(np.diff(np.concatenate([[1], near.astype(np.int8), [1]])))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2]) if b - a >= min_frames]


def gliding_foot(joints, fps=60.0, before=(0.75, 0.25)):
    """(T, V, 3) mm of one jump -> ('left' or 'right', mm the other ankle is higher on average) over the frames
    from before[0] to before[1] seconds before the highest point of the MidHip (the glide into the takeoff)."""
    apex = int(np.argmax(joints[:, HIP, UP]))
    start, stop = max(apex - round(before[0] * fps), 0), max(apex - round(before[1] * fps), 1)
    diff = float(np.mean(joints[start:stop, LEFT_ANKLE, UP] - joints[start:stop, RIGHT_ANKLE, UP]))
    return ('left' if diff < 0 else 'right'), abs(diff)


def run_in_turn(joints, fps=60.0, before=(1.5, 0.5)):
    """(T, V, 3) mm of one jump -> degrees the hips turn about the vertical from before[0] to before[1] seconds
    before the highest point of the MidHip (None when the clip starts later): a Flip's run-in holds a half turn
    (the three-turn or Mohawk onto the back inside edge), a Lutz's a long glide on the back outside edge."""
    apex = int(np.argmax(joints[:, HIP, UP]))
    start, stop = apex - round(before[0] * fps), apex - round(before[1] * fps)
    if start < 0:
        return None
    hips = joints[start:stop + 1, LEFT_HIP, :2] - joints[start:stop + 1, RIGHT_HIP, :2]
    turn = np.unwrap(np.arctan2(hips[:, 1], hips[:, 0]))
    return float(np.degrees(abs(turn[-1] - turn[0])))
