"""Skeleton layouts (joints, bones, centre) and adjacency partitions, kept apart from the layers that use them.

``Graph(layout, strategy).A`` is a float32 array (K, V, V): K partition subsets of a V-joint skeleton, each
column-normalised, with A[k, v, w] the weight with which joint v feeds joint w. ``strategy='spatial'`` is
ST-GCN's partition (root, closer to the centre, further from it) and reproduces PaddleVideo's ``backbone.A``.
"""
import numpy as np

from ..utils.errors import ConfigError

# Bones as (joint, joint) pairs, 0-based.
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
}

# Left/right joint pairs, for horizontal flips.
FLIP_PAIRS = {
    'fsd10': [(2, 5), (3, 6), (4, 7), (9, 12), (10, 13), (11, 14), (15, 16), (17, 18), (19, 22), (20, 23),
              (21, 24)],
    'ntu-rgb+d': [(4, 8), (5, 9), (6, 10), (7, 11), (12, 16), (13, 17), (14, 18), (15, 19), (21, 23),
                  (22, 24)],
    'coco': [(1, 2), (3, 4), (5, 6), (7, 8), (9, 10), (11, 12), (13, 14), (15, 16)],
}

STRATEGIES = ('uniform', 'distance', 'spatial')


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


def hop_distance(num_node, edges, max_hop):
    """(V, V) hop count between joints, inf beyond max_hop."""
    adj = np.eye(num_node, dtype=bool)
    for i, j in edges:
        adj[i, j] = adj[j, i] = True
    dist = np.full((num_node, num_node), np.inf)
    reach = np.eye(num_node, dtype=bool)
    for d in range(max_hop + 1):
        dist[reach & np.isinf(dist)] = d
        reach = (reach.astype(np.int64) @ adj.astype(np.int64)) > 0
    return dist


def normalize_columns(a):
    """a @ diag(1 / column sums): each joint's inputs sum to one (empty columns stay zero)."""
    col = a.sum(axis=0)
    return a * np.where(col > 0, 1.0 / np.where(col > 0, col, 1), 0)[None, :]


class Graph:
    def __init__(self, layout='fsd10', strategy='spatial', max_hop=1, dilation=1):
        spec = layout_spec(layout)
        if strategy not in STRATEGIES:
            raise ConfigError(f"unknown graph strategy '{strategy}'; known: {', '.join(STRATEGIES)}")
        self.layout, self.strategy = layout, strategy
        self.num_node, self.center, self.edges = spec['num_node'], spec['center'], spec['edges']
        self.hop = hop_distance(self.num_node, self.edges, max_hop)
        self.A = self._partition(range(0, max_hop + 1, dilation)).astype(np.float32)

    def _partition(self, hops):
        hop = self.hop
        adjacency = np.isin(hop, list(hops)).astype(np.float64)
        norm = normalize_columns(adjacency)
        if self.strategy == 'uniform':
            return norm[None]
        if self.strategy == 'distance':
            return np.stack([norm * (hop == h) for h in hops])
        # spatial: split each hop ring by distance to the centre (v feeds w; compare v's and w's distance)
        to_center = hop[:, self.center]
        closer = to_center[:, None] > to_center[None, :]   # [v, w]: source further out than target
        same = to_center[:, None] == to_center[None, :]
        subsets = []
        for h in hops:
            ring = norm * (hop == h)
            if h == 0:
                subsets.append(ring)
            else:
                subsets.append(ring * (same | closer))
                subsets.append(ring * ~(same | closer))
        return np.stack(subsets)
