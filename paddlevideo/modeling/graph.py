"""Adjacency partitions of a skeleton layout (paddlevideo.skeleton), kept apart from the layers that use them.

``Graph(layout, strategy).A`` is a float32 array (K, V, V): K partition subsets of a V-joint skeleton, each
column-normalised, with A[k, v, w] the weight with which joint v feeds joint w. ``strategy='spatial'`` is
ST-GCN's partition (root, closer to the centre, further from it) and reproduces PaddleVideo's ``backbone.A``.
"""
import numpy as np

from ..skeleton.layouts import layout_spec
from ..utils.errors import ConfigError

STRATEGIES = ('uniform', 'distance', 'spatial')


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
