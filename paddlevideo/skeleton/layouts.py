"""Skeleton layouts: joints, bones, left / right pairs and the centre joint of each."""
import numpy as np

from ..utils.errors import ConfigError

# Bones as (joint, joint) pairs, 0-based; `center` is the joint SkeletonNorm centres on and the root of the bone tree.
LAYOUTS = {
    # OpenPose BODY_25, as used by FSD-10/FSD-30; centre 8 (MidHip).
    'fsd10': dict(num_node=25, center=8, edges=[
        (1, 8), (0, 1), (15, 0), (17, 15), (16, 0), (18, 16), (5, 1), (6, 5), (7, 6), (2, 1), (3, 2), (4, 3),
        (9, 8), (10, 9), (11, 10), (24, 11), (22, 11), (23, 22), (12, 8), (13, 12), (14, 13), (21, 14),
        (19, 14), (20, 19)]),
    # NTU RGB+D 25 Kinect joints; centre 20 (spine).
    'ntu-rgb+d': dict(num_node=25, center=20, edges=[
        (i - 1, j - 1) for i, j in [
            (1, 2), (2, 21), (3, 21), (4, 3), (5, 21), (6, 5), (7, 6), (8, 7), (9, 21), (10, 9), (11, 10),
            (12, 11), (13, 1), (14, 13), (15, 14), (16, 15), (17, 1), (18, 17), (19, 18), (20, 19), (22, 23),
            (23, 8), (24, 25), (25, 12)]]),
    # COCO 17 keypoints; centre 0 (nose), as in the usual 2D-pose ST-GCN setups.
    'coco': dict(num_node=17, center=0, edges=[
        (15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7), (7, 5), (10, 8), (8, 6), (5, 0),
        (6, 0), (1, 0), (3, 1), (2, 0), (4, 2)]),
    # PaddleVideo's (and PP-Human's) name for COCO 17 keypoints, with its own bones and centre 11 (left hip):
    # its checkpoints carry the graph of these edges.
    'coco_keypoint': dict(num_node=17, center=11, edges=[
        (0, 1), (0, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7), (6, 8), (7, 9), (8, 10), (5, 11), (6, 12),
        (11, 13), (12, 14), (13, 15), (14, 16), (11, 12)]),
}

# Left/right joint pairs, for horizontal flips.
FLIP_PAIRS = {
    'fsd10': [(2, 5), (3, 6), (4, 7), (9, 12), (10, 13), (11, 14), (15, 16), (17, 18), (19, 22), (20, 23),
              (21, 24)],
    'ntu-rgb+d': [(4, 8), (5, 9), (6, 10), (7, 11), (12, 16), (13, 17), (14, 18), (15, 19), (21, 23),
                  (22, 24)],
    'coco': [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)],
}
FLIP_PAIRS['coco_keypoint'] = FLIP_PAIRS['coco']

JOINT_NAMES = {
    'fsd10': ['Nose', 'Neck', 'RShoulder', 'RElbow', 'RWrist', 'LShoulder', 'LElbow', 'LWrist', 'MidHip', 'RHip',
              'RKnee', 'RAnkle', 'LHip', 'LKnee', 'LAnkle', 'REye', 'LEye', 'REar', 'LEar', 'LBigToe',
              'LSmallToe', 'LHeel', 'RBigToe', 'RSmallToe', 'RHeel'],
    'coco': ['nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder', 'right_shoulder',
             'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip', 'right_hip', 'left_knee',
             'right_knee', 'left_ankle', 'right_ankle'],
}
JOINT_NAMES['coco_keypoint'] = JOINT_NAMES['coco']


def flip_permutation(layout):
    """Joint order of the mirrored skeleton: each left joint takes its right partner's place and back."""
    perm = np.arange(layout_spec(layout)['num_node'])
    for a, b in FLIP_PAIRS[layout]:
        perm[a], perm[b] = b, a
    return perm


def mirror_frames(frames, width, layout):
    """(T, V, 3) x, y in pixels and a confidence -> the same frames seen in a mirror: x -> width - x for the
    joints that were seen (a missing joint stays 0), left and right joints exchanged. A clockwise skater's
    jumps mirrored are a counter-clockwise skater's."""
    out = np.array(frames, dtype=np.float32)[:, flip_permutation(layout)]
    out[..., 0] = np.where(out[..., 2] > 0, width - out[..., 0], 0)
    return out


def layout_spec(layout):
    if layout not in LAYOUTS:
        raise ConfigError(f"unknown skeleton layout '{layout}'; known: {', '.join(LAYOUTS)}")
    return LAYOUTS[layout]


def bone_parents(layout):
    """(V,) parent of each joint on the layout's tree rooted at its centre (the centre is its own parent)."""
    spec = layout_spec(layout)
    neighbours = [[] for _ in range(spec['num_node'])]
    for a, b in spec['edges']:
        neighbours[a].append(b)
        neighbours[b].append(a)
    parent = np.full(spec['num_node'], -1)
    parent[spec['center']], queue = spec['center'], [spec['center']]
    for v in queue:
        for j in neighbours[v]:
            if parent[j] < 0:
                parent[j] = v
                queue.append(j)
    return parent
