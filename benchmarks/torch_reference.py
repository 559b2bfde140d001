"""PaddleVideo's ST-GCN (spatial graph, biased convolutions) in PyTorch eager: a second yardstick for speed.

The same network and the same graph product as benchmarks/paddlevideo_reference.py (transpose to (N, C, T, K*V),
one matmul; the einsum of PyTorch's original ST-GCN measured no faster here), so that a benchmark can time the
same work on another framework in the same run. Optional: needs ``pip install torch`` (not a project
dependency).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from benchmarks.stgcn_plan import PLAN, TEMPORAL_KERNEL


class TorchBlock(nn.Module):
    """relu(tcn(gcn(x)) + residual(x)) with gcn = 1x1 conv to K*out channels, then sum_k,v y[k,v] A[k,v,w]."""

    def __init__(self, in_channels, out_channels, num_subsets, stride, residual):
        super().__init__()
        self.num_subsets = num_subsets
        pad = (TEMPORAL_KERNEL - 1) // 2
        self.gcn = nn.Conv2d(in_channels, out_channels * num_subsets, 1)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(out_channels), nn.ReLU(),
            nn.Conv2d(out_channels, out_channels, (TEMPORAL_KERNEL, 1), (stride, 1), (pad, 0)),
            nn.BatchNorm2d(out_channels), nn.Dropout(0.0))
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, (stride, 1)),
                                          nn.BatchNorm2d(out_channels))

    def forward(self, x, A):
        n, _, t, v = x.shape
        y = self.gcn(x).view(n, self.num_subsets, -1, t, v)
        y = y.permute(0, 2, 3, 1, 4).reshape(n, -1, t, self.num_subsets * v)
        y = self.tcn(torch.matmul(y, A.reshape(-1, v)))
        if self.residual is not None:
            y = y + self.residual(x)
        return F.relu(y)


class TorchRecognizer(nn.Module):
    """(N, C, T, V, M) -> (N, num_classes): data_bn, ten blocks with edge importance, pooling, 1x1 conv head."""

    def __init__(self, A, num_classes=30, in_channels=2):
        super().__init__()
        k, v = A.shape[0], A.shape[1]
        self.register_buffer('A', torch.as_tensor(A, dtype=torch.float32))
        self.data_bn = nn.BatchNorm1d(in_channels * v)
        self.blocks = nn.ModuleList([TorchBlock(cin or in_channels, cout, k, stride, residual)
                                     for cin, cout, stride, residual in PLAN])
        self.edge_importance = nn.ParameterList([nn.Parameter(torch.ones(A.shape)) for _ in PLAN])
        self.fcn = nn.Conv2d(PLAN[-1][1], num_classes, 1)

    def forward(self, x):
        n, c, t, v, m = x.shape
        x = self.data_bn(x.permute(0, 4, 3, 1, 2).reshape(n * m, v * c, t))
        x = x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)
        for block, importance in zip(self.blocks, self.edge_importance):
            x = block(x, self.A * importance)
        x = F.adaptive_avg_pool2d(x, 1).view(n, m, -1, 1, 1).mean(dim=1)
        return self.fcn(x).view(n, -1)


def paddlevideo_state(state):
    """A PaddleVideo RecognizerGCN state dict (name -> array) renamed for TorchRecognizer.load_state_dict."""
    renames = [('backbone.st_gcn_networks.', 'blocks.'), ('backbone.', ''), ('head.', ''), ('gcn.conv.', 'gcn.'),
               ('._mean', '.running_mean'), ('._variance', '.running_var')]
    out = {}
    for name, value in state.items():
        for old, new in renames:
            name = name.replace(old, new)
        out[name] = torch.as_tensor(value)
    return out


def training_step(A, batch, window, channels, num_classes, threads, bf16=False):
    """One training step of TorchRecognizer on fixed random data, as a callable: forward, cross entropy,
    backward, SGD with momentum 0.9 and L2 1e-4 (benchmarks/train_speed.py times it). bf16: the forward under
    torch.autocast('cpu', torch.bfloat16), PyTorch's CPU mixed precision (fp32 weights and optimizer)."""
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = TorchRecognizer(A, num_classes, channels).train()
    x = torch.randn(batch, channels, window, A.shape[1], 1)
    y = torch.randint(0, num_classes, (batch,))
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)

    def step():
        with torch.autocast('cpu', dtype=torch.bfloat16, enabled=bf16):
            logits = model(x)
        F.cross_entropy(logits.float(), y).backward()
        opt.step()
        opt.zero_grad()
    return step
