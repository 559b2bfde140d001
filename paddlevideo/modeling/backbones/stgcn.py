"""ST-GCN backbone (Yan et al., AAAI 2018) in two graph modes, written for speed on the CPU.

- ``graph='spatial'`` (default): PaddleVideo's model. A fixed (K, V, V) spatial partition times a learnable
  edge-importance map per block; parameter names and shapes equal PaddleVideo's, so its checkpoints load.
- ``graph='learnable'``: each block's graph convolution is a Conv2D(in, K*out, 1x1) whose K subsets are
  concatenated on the joint axis and mixed by one learnable (K*V, V) matrix, initialised from the partition.

Both compute  z[n,c,t,w] = sum_{k,i,v} W[k*out+c, i] x[n,i,t,v] G[k,v,w]  the same fast way: the joint mixing
runs first, as one matmul of the input with G laid out (V, V*K) (joint-major, subset-minor), and the channel
mixing second, as a (1, K) convolution with stride K. No transposes of activations, no einsum. Convolutions
that BatchNorm follows carry no bias in the computation: a checkpoint's bias is folded into that BatchNorm's
mean (exact, see conv_bn). In dygraph on the CPU the graph, temporal and residual convolutions run as direct
MKL GEMMs (cpu_gemm.py), with Paddle's operators as the fallback and for export.
"""
import paddle
import paddle.nn as nn
import paddle.nn.functional as F

from ...utils.errors import ConfigError
from ...utils.registry import COMPONENTS
from ..graph import Graph
from . import cpu_gemm

GRAPH_MODES = ('spatial', 'learnable')


def mix_joints_then_channels(x, graph, weight, num_subsets):
    """sum_k W_k (x G_k): x (N, Cin, T, V), graph (K, V, W), weight (K*Cout, Cin, 1, 1) -> (N, Cout, T, W)."""
    k, v, w = graph.shape
    g = graph.transpose([1, 2, 0]).reshape([v, w * k])                  # [v, w*K + k] = G[k, v, w]
    cout = weight.shape[0] // num_subsets
    wk = weight.reshape([num_subsets, cout, -1]).transpose([1, 2, 0]).unsqueeze(2)  # (Cout, Cin, 1, K)
    # The matmul runs on x folded to (N, Cin*T, V): the same numbers, and the reshape makes Paddle Inference's
    # oneDNN path reorder x to plain NCHW first (its 4-D x 2-D matmul reads a oneDNN conv output, channels-last
    # in memory, as if it were NCHW: wrong logits from the second block on, Paddle 3.3.1).
    xg = paddle.matmul(x.reshape([0, -1, v]), g).reshape([0, x.shape[1], -1, w * k])  # (N, Cin, T, V*K)
    return F.conv2d(xg, wk, stride=(1, num_subsets))


def conv_bn(x, conv, bn, training):
    """bn(conv(x) + conv.bias) given x = the convolution's output without bias, the bias folded into bn's mean.

    BN(conv(x) + b) in training equals BN(conv(x)) exactly; the running mean keeps PaddleVideo's meaning
    (statistics of conv(x) + b): it is updated on mean - b and shifted back, and evaluation uses mean - b.
    """
    bias, mom = conv.bias, bn._momentum
    if training:
        if bias is None:
            return F.batch_norm(x, bn._mean, bn._variance, bn.weight, bn.bias, training=True, momentum=mom,
                                epsilon=bn._epsilon)
        shifted = bn._mean - bias  # batch_norm updates this copy in place; bn._mean is then set from it
        y = F.batch_norm(x, shifted, bn._variance, bn.weight, bn.bias, training=True, momentum=mom,
                         epsilon=bn._epsilon)
        with paddle.no_grad():
            paddle.assign(shifted + bias, bn._mean)
        return y
    mean = bn._mean if bias is None else bn._mean - bias
    return F.batch_norm(x, mean, bn._variance, bn.weight, bn.bias, training=False, epsilon=bn._epsilon)


def run_block_checkpointed(block, x, graph):
    """block(x, graph) for recompute. Its backward pass runs the block a second time, with gradients on, which
    moves BatchNorm's running statistics once more: they are put back once the block's gradients are done
    (when x's gradient is ready), so training keeps exactly the statistics of a run without recompute."""
    if paddle.is_grad_enabled():
        saved = [(s, s.clone()) for bn in block.sublayers() if isinstance(bn, nn.BatchNorm2D)
                 for s in (bn._mean, bn._variance)]

        def restore(grad):
            for stat, value in saved:
                stat.set_value(value)
        x.register_hook(restore)
    return block(x, graph)


def conv_nobias(conv, x):
    """conv(x) without its bias. A temporal convolution (kernel (K, 1), K odd, stride (s, 1), 'same' padding)
    runs as MKL GEMMs where cpu_gemm can."""
    kernel, stride, pad = conv.weight.shape[2:], list(conv._stride), conv._padding
    pad = [pad, pad] if isinstance(pad, int) else list(pad)
    if cpu_gemm.usable(x) and kernel[1] == 1 and kernel[0] % 2 and stride[1] == 1 and pad == [kernel[0] // 2, 0]:
        return cpu_gemm.TemporalConv.apply(x, conv.weight, stride[0])
    return F.conv2d(x, conv.weight, stride=conv._stride, padding=conv._padding)


class GraphConv(nn.Layer):
    """Spatial graph convolution; `conv` / `adjacency` names keep checkpoint keys stable."""

    def __init__(self, in_channels, out_channels, num_subsets, num_node, mode, bias, graph_lr=1.0):
        super().__init__()
        self.num_subsets = num_subsets
        self.conv = nn.Conv2D(in_channels, out_channels * num_subsets, 1, bias_attr=None if bias else False)
        if mode == 'learnable':
            self.adjacency = self.create_parameter([num_subsets * num_node, num_node],
                                                   attr=paddle.ParamAttr(learning_rate=graph_lr))

    def forward(self, x, graph):
        """graph: (K, V, W) subsets to use (spatial mode passes A * importance, learnable mode None)."""
        if graph is None:
            graph = self.adjacency.reshape([self.num_subsets, -1, self.adjacency.shape[1]])
        bias, weight = self.conv.bias, self.conv.weight
        if cpu_gemm.usable(x):
            return cpu_gemm.GraphConv.apply(x, graph, weight, bias)
        if bias is None:
            return mix_joints_then_channels(x, graph, weight, self.num_subsets)
        # PaddleVideo's bias passes through the graph too: sum_k b_k[c] sum_v G[k,v,w]. It rides as one more input
        # channel of ones (exact). In training the graph conv's forward + backward is ~35% faster than a (Cout, 1, W)
        # broadcast add, whose backward reduces over N and T; exported, the add would sit between the convolution
        # and its BatchNorm, which ONNX Runtime then cannot fuse (batch 32: 8.2-8.8 against 7.3-8.1 samples/s).
        x = paddle.concat([x, paddle.ones_like(x[:, :1])], axis=1)
        weight = paddle.concat([weight, bias.reshape([-1, 1, 1, 1])], axis=1)
        return mix_joints_then_channels(x, graph, weight, self.num_subsets)


class STGCNBlock(nn.Layer):
    """Graph conv -> BN -> ReLU -> temporal conv (9x1) -> BN, plus a residual, then ReLU (PaddleVideo's order)."""

    def __init__(self, in_channels, out_channels, num_subsets, num_node, mode, stride=1, residual=True,
                 dropout=0.0, temporal_kernel=9, graph_lr=1.0):
        super().__init__()
        bias = mode == 'spatial'  # PaddleVideo's convolutions carry biases; ours do not need them
        bias_attr = None if bias else False
        self.gcn = GraphConv(in_channels, out_channels, num_subsets, num_node, mode, bias, graph_lr)
        pad = (temporal_kernel - 1) // 2
        self.tcn = nn.LayerList([
            nn.BatchNorm2D(out_channels), nn.ReLU(),
            nn.Conv2D(out_channels, out_channels, (temporal_kernel, 1), (stride, 1), (pad, 0), bias_attr=bias_attr),
            nn.BatchNorm2D(out_channels), nn.Dropout(dropout)])
        self.dropout = dropout
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = 'identity'
        else:
            self.residual = nn.LayerList([
                nn.Conv2D(in_channels, out_channels, 1, (stride, 1), bias_attr=bias_attr),
                nn.BatchNorm2D(out_channels)])

    def forward(self, x, graph):
        # ReLUs in place: the backward of BatchNorm and of the add reads their inputs, not their outputs; one
        # activation less per ReLU (training peak at batch 8: 2229 against 2289 MB, benchmarks/memory.py)
        bn1, _, tconv, bn2, drop = self.tcn
        y = F.relu_(bn1(self.gcn(x, graph)))
        y = conv_bn(conv_nobias(tconv, y), tconv, bn2, self.training)
        if self.dropout > 0:
            y = drop(y)
        if self.residual == 'identity':
            y = y + x
        elif self.residual is not None:
            conv, bn = self.residual
            y = y + conv_bn(conv_nobias(conv, x), conv, bn, self.training)
        return F.relu_(y)


@COMPONENTS.register('backbone')
class STGCN(nn.Layer):
    """Input (N, C, T, V, M) -> features (N, 256, 1, 1), averaged over time, joints and persons.

    graph_lr scales the learning rate of the learnable graph: it mixes every activation, and at the full rate it
    drifts off the skeleton before the convolutions have learned (Penn Action, 4 short epochs: 18% top-1 at 1.0,
    29% at 0.1, spatial mode 28%).
    with_cp (as in mmaction2) keeps only each block's input during training and recomputes the rest in the
    backward pass: 20-30% fewer samples/s at batch 8 and window 350 for two thirds of the peak memory
    (README); the same gradients and running statistics.
    """

    def __init__(self, in_channels=2, edge_importance_weighting=True, data_bn=True, layout='fsd10',
                 strategy='spatial', graph='spatial', dropout=0.0, temporal_kernel=9, graph_lr=0.1, with_cp=False):
        super().__init__()
        if graph not in GRAPH_MODES:
            raise ConfigError(f"STGCN: unknown graph mode '{graph}'; known: {', '.join(GRAPH_MODES)}")
        g = Graph(layout=layout, strategy=strategy)
        num_subsets, num_node = g.A.shape[0], g.A.shape[1]
        self.graph_mode, self.in_channels, self.num_node = graph, in_channels, num_node
        self.with_cp = with_cp
        self.register_buffer('A', paddle.to_tensor(g.A))
        self.data_bn = nn.BatchNorm1D(in_channels * num_node) if data_bn else None
        plan = [(in_channels, 64, 1, False), (64, 64, 1, True), (64, 64, 1, True), (64, 64, 1, True),
                (64, 128, 2, True), (128, 128, 1, True), (128, 128, 1, True),
                (128, 256, 2, True), (256, 256, 1, True), (256, 256, 1, True)]
        self.st_gcn_networks = nn.LayerList([
            STGCNBlock(cin, cout, num_subsets, num_node, graph, stride, residual,
                       dropout=0.0 if i == 0 else dropout, temporal_kernel=temporal_kernel, graph_lr=graph_lr)
            for i, (cin, cout, stride, residual) in enumerate(plan)])
        if graph == 'learnable':
            for block in self.st_gcn_networks:
                block.gcn.adjacency.set_value(paddle.to_tensor(g.A.reshape(-1, num_node)))
            self.edge_importance = None
        elif edge_importance_weighting:
            self.edge_importance = nn.ParameterList([
                self.create_parameter(list(g.A.shape), default_initializer=nn.initializer.Constant(1.0))
                for _ in self.st_gcn_networks])
        else:
            self.edge_importance = None

    def forward(self, x):
        _, C, T, V, M = x.shape
        if self.data_bn is not None:  # normalise each (joint, channel) over time, as PaddleVideo does
            x = x.transpose([0, 4, 3, 1, 2]).reshape([-1, V * C, T])
            x = self.data_bn(x).reshape([-1, M, V, C, T]).transpose([0, 1, 3, 4, 2])
        else:
            x = x.transpose([0, 4, 1, 2, 3])
        x = x.reshape([-1, C, T, V])
        for i, block in enumerate(self.st_gcn_networks):
            if self.graph_mode == 'learnable':
                graph = None
            elif self.edge_importance is not None:
                graph = self.A * self.edge_importance[i]
            else:
                graph = self.A
            if self.with_cp and self.training and not x.stop_gradient:
                from paddle.distributed.fleet.utils import recompute  # imports fleet: only when asked for
                x = recompute(run_block_checkpointed, block, x, graph)
            else:
                x = block(x, graph)
        # over (T, V) as one axis: Paddle's backward of a two-axis mean took 73 ms at batch 8, this 13 ms
        x = x.reshape([0, 0, -1]).mean(axis=2)                  # (N*M, C)
        x = x.reshape([-1, M, x.shape[1]]).mean(axis=1)         # (N, C)
        return x.reshape([-1, x.shape[1], 1, 1])
