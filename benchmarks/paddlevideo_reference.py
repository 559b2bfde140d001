"""PaddleVideo's ST-GCN formulation, re-implemented as the yardstick for parity tests and speed benchmarks.

``ReferenceRecognizer(graph='spatial')`` computes the model the way PaddleVideo does (commit ed245e9): per
block a 1x1 Conv2D with bias to K*out channels, a reshape to (N, K, C, T, V), a transpose to (N, C, T, K, V),
a reshape to (N, C, T, K*V) and a matmul with (A * edge_importance) laid out (K*V, V); the temporal unit and
the residual are ``nn.Sequential``s with biased convolutions. Its parameter names equal PaddleVideo's, so a
PaddleVideo checkpoint loads into it unchanged.

``graph='learnable'`` is the seed's formulation of our learnable-graph model: the same 1x1 convolution
(without bias), its K subsets concatenated on the joint axis to (N, C, T, K*V) and multiplied by one learnable
(K*V, V) matrix ``gcn.adjacency``; keys and shapes equal ``STGCN(graph='learnable')``'s, so the two share a
state dict.

This module imports paddle but not paddlevideo at import time (the graph is imported when a model is built),
so a benchmark can import it under Paddle's stock runtime. Import ``paddlevideo`` first to get ours.
"""
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from benchmarks.stgcn_plan import PLAN, TEMPORAL_KERNEL


class ReferenceGraphConv(nn.Layer):
    """1x1 convolution to K*out channels, then a sum over subsets and joints as one matmul."""

    def __init__(self, in_channels, out_channels, num_subsets, num_node, graph):
        super().__init__()
        self.num_subsets, self.graph = num_subsets, graph
        self.conv = nn.Conv2D(in_channels, out_channels * num_subsets, 1,
                              bias_attr=None if graph == 'spatial' else False)
        if graph == 'learnable':
            self.adjacency = self.create_parameter([num_subsets * num_node, num_node])

    def forward(self, x, A):
        """x (N, Cin, T, V); A (K, V, V), used in spatial mode only -> (N, Cout, T, V)."""
        x = self.conv(x)
        n, kc, t, v = x.shape
        k = self.num_subsets
        x = x.reshape([n, k, kc // k, t, v])
        if self.graph == 'spatial':
            x = x.transpose([0, 2, 3, 1, 4]).reshape([n, kc // k, t, k * v])
            return paddle.matmul(x, A.reshape([k * v, v]))
        x = paddle.concat([x[:, i] for i in range(k)], axis=-1)  # (N, C, T, K*V), subset-major
        return paddle.matmul(x, self.adjacency)


class ReferenceBlock(nn.Layer):
    """out = relu(tcn(gcn(x)) + residual(x)), PaddleVideo's st_gcn_block."""

    def __init__(self, in_channels, out_channels, num_subsets, num_node, graph, stride, residual):
        super().__init__()
        bias = None if graph == 'spatial' else False
        pad = (TEMPORAL_KERNEL - 1) // 2
        self.gcn = ReferenceGraphConv(in_channels, out_channels, num_subsets, num_node, graph)
        self.tcn = nn.Sequential(
            nn.BatchNorm2D(out_channels), nn.ReLU(),
            nn.Conv2D(out_channels, out_channels, (TEMPORAL_KERNEL, 1), (stride, 1), (pad, 0), bias_attr=bias),
            nn.BatchNorm2D(out_channels), nn.Dropout(0.0))
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(
                nn.Conv2D(in_channels, out_channels, 1, (stride, 1), bias_attr=bias), nn.BatchNorm2D(out_channels))

    def forward(self, x, A):
        y = self.tcn(self.gcn(x, A))
        if self.residual is not None:
            y = y + self.residual(x)
        return F.relu(y)


class ReferenceSTGCN(nn.Layer):
    """(N, C, T, V, M) -> (N, 256, 1, 1): data_bn, ten blocks, average pool, mean over persons."""

    def __init__(self, in_channels=2, layout='fsd10', graph='spatial'):
        super().__init__()
        if graph not in ('spatial', 'learnable'):
            raise ValueError(f"graph must be 'spatial' or 'learnable', got {graph!r}")
        from paddlevideo.modeling.graph import Graph  # after paddle: see the module docstring
        A = Graph(layout=layout, strategy='spatial').A
        k, v = A.shape[0], A.shape[1]
        self.graph = graph
        self.register_buffer('A', paddle.to_tensor(A))
        self.data_bn = nn.BatchNorm1D(in_channels * v)
        self.st_gcn_networks = nn.LayerList([
            ReferenceBlock(cin or in_channels, cout, k, v, graph, stride, residual)
            for cin, cout, stride, residual in PLAN])
        if graph == 'spatial':
            self.edge_importance = nn.ParameterList([
                self.create_parameter(list(A.shape), default_initializer=nn.initializer.Constant(1.0))
                for _ in PLAN])
        else:
            for block in self.st_gcn_networks:
                block.gcn.adjacency.set_value(paddle.to_tensor(A.reshape([k * v, v])))
        self.pool = nn.AdaptiveAvgPool2D((1, 1))

    def forward(self, x):
        n, c, t, v, m = x.shape
        x = x.transpose([0, 4, 3, 1, 2]).reshape([n * m, v * c, t])       # (N*M, V*C, T)
        x = self.data_bn(x)
        x = x.reshape([n, m, v, c, t]).transpose([0, 1, 3, 4, 2]).reshape([n * m, c, t, v])
        for i, block in enumerate(self.st_gcn_networks):
            A = self.A * self.edge_importance[i] if self.graph == 'spatial' else None
            x = block(x, A)
        x = self.pool(x)                                                    # (N*M, C, 1, 1)
        return x.reshape([n, m, x.shape[1], 1, 1]).mean(axis=1)


class ReferenceHead(nn.Layer):
    """PaddleVideo's STGCNHead: a 1x1 Conv2D from the pooled features to logits."""

    def __init__(self, num_classes, in_channels=256):
        super().__init__()
        self.fcn = nn.Conv2D(in_channels, num_classes, 1)

    def forward(self, x):
        return self.fcn(x).reshape([x.shape[0], -1])


class ReferenceRecognizer(nn.Layer):
    """backbone -> head, with the ``backbone.`` / ``head.`` key prefixes of PaddleVideo's RecognizerGCN."""

    def __init__(self, num_classes=30, in_channels=2, layout='fsd10', graph='spatial'):
        super().__init__()
        self.backbone = ReferenceSTGCN(in_channels, layout, graph)
        self.head = ReferenceHead(num_classes)

    def forward(self, x):
        """(N, C, T, V, M) -> (N, num_classes) logits."""
        return self.head(self.backbone(x))
