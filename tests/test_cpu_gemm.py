"""The ST-GCN block's MKL GEMM kernels (modeling/backbones/cpu_gemm.py) against Paddle's own operators."""
import numpy as np
import paddle
import paddle.nn.functional as F
import pytest

from paddlevideo.modeling import build_model
from paddlevideo.modeling.backbones import cpu_gemm
from paddlevideo.modeling.backbones.stgcn import GraphConv as GraphConvLayer

pytestmark = pytest.mark.skipif(cpu_gemm.SGEMM is None, reason='this paddle wheel ships no libmklml_intel.so')


def tensor(rng, shape, grad=True):
    return paddle.to_tensor(rng.standard_normal(shape, dtype=np.float32), stop_gradient=not grad)


@pytest.mark.parametrize('t, kernel, stride', [
    (12, 9, 1), (3, 9, 1), (7, 3, 1),  # T=3: taps that reach past the clip drop out
    (12, 9, 2), (11, 9, 2), (3, 9, 2),  # ST-GCN's strided temporal conv; odd T: the phases differ in length
    (13, 1, 2),                         # its strided 1x1 residual: odd frames read by no tap, their gradient 0
    (10, 3, 4), (12, 9, 3)])            # phases without a shift-0 tap, and a third phase
def test_temporal_conv_equals_paddle_conv(t, kernel, stride):
    rng = np.random.default_rng(0)
    out_len = (t - 1) // stride + 1
    x, w, dy = tensor(rng, (2, 5, t, 4)), tensor(rng, (6, 5, kernel, 1)), tensor(rng, (2, 6, out_len, 4), False)
    assert cpu_gemm.usable(x)
    ours = cpu_gemm.TemporalConv.apply(x, w, stride)
    ref = F.conv2d(x, w, stride=(stride, 1), padding=(kernel // 2, 0))
    assert ours.shape == ref.shape
    for a, b in zip([ours, *paddle.grad(ours, [x, w], dy)], [ref, *paddle.grad(ref, [x, w], dy)]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('cin, bias, graph_grad', [(2, False, True), (7, True, True), (7, True, False)])
def test_graph_conv_equals_paddle_ops(monkeypatch, cin, bias, graph_grad):
    """The graph conv layer, PaddleVideo's bias (spatial mode) included: output and the gradients of x, the
    (K, V, W) graph (when it takes one), the weight and the bias."""
    rng = np.random.default_rng(1)
    layer = GraphConvLayer(cin, 8, 3, 25, 'spatial', bias)
    if bias:
        layer.conv.bias.set_value(tensor(rng, (24,)))
    x, graph, dy = tensor(rng, (2, cin, 6, 25)), tensor(rng, (3, 25, 25), graph_grad), tensor(rng, (2, 8, 6, 25), False)
    inputs = [x] + [graph] * graph_grad + [layer.conv.weight] + [layer.conv.bias] * bias

    def run():
        y = layer(x, graph)
        return [y, *paddle.grad(y, inputs, dy)]
    ours = run()
    monkeypatch.setattr(cpu_gemm, 'SGEMM', None)  # Paddle's matmul + conv2d, the bias as a channel of ones
    assert not cpu_gemm.usable(x)
    for a, b in zip(ours, run(), strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('stride', [1, 2])
def test_input_without_gradient_gets_none(stride):
    rng = np.random.default_rng(2)
    x, w = tensor(rng, (1, 3, 5, 4), grad=False), tensor(rng, (3, 3, 3, 1))
    y = cpu_gemm.TemporalConv.apply(x, w, stride)
    (dw,) = paddle.grad(y, [w], paddle.ones_like(y))
    ref = F.conv2d(x, w, stride=(stride, 1), padding=(1, 0))
    np.testing.assert_allclose(dw.numpy(), paddle.grad(ref, [w], paddle.ones_like(ref))[0].numpy(), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize('graph', ['learnable', 'spatial'])
def test_training_step_takes_the_kernels_and_keeps_float64_accuracy(monkeypatch, graph):
    """All 12 temporal convs (8 of stride 1, 2 strided, 2 strided 1x1 residuals) and all 10 graph convs of the
    model run the MKL kernels, and one training step's gradients agree with the same step in float64 to 1e-4 of
    each gradient's largest value (measured on an AMD EPYC: under 6e-6).

    The float64 step takes the fp32 step's branch at every ReLU. Of the step's 1.3 million ReLU inputs a few lie
    within fp32 rounding of zero (the closest at 6e-8 of its tensor's std for seed 3), and the side they land on
    is decided by the CPU's rounding, which differs between MKL's AMD and Intel kernels. One such element taking
    the other branch moves a temporal conv's weight gradient by 1-2%: Paddle's own fp32 operators flip one on the
    AMD EPYC, our kernels one on an Intel Xeon (AMX), which is what this test measured before it pinned the
    branches. So the branches are checked on their own: every ReLU input on the other side of zero in fp32 than
    in float64 must be within 1e-5 of its tensor's std of zero, a rounding tie, not a wrong result."""
    calls = []
    for kernel in (cpu_gemm.TemporalConv, cpu_gemm.GraphConv):
        monkeypatch.setattr(kernel, 'apply', staticmethod(
            lambda *args, _apply=kernel.apply, _name=kernel.__name__: calls.append(_name) or _apply(*args)))
    rng = np.random.default_rng(3)
    data, labels = rng.uniform(-1, 1, (4, 2, 20, 25, 1)), paddle.to_tensor([0, 1, 2, 1])
    relu_ = F.relu_

    def step(dtype, kernels, branches=None):
        """Logits, gradients and, at every ReLU, (input as float64, branch taken: input > 0 or the replayed one)."""
        relus = []

        def relu(x):
            taken = x.numpy() > 0 if branches is None else branches[len(relus)]
            relus.append((x.numpy().astype(np.float64), taken))
            return relu_(x) if branches is None else x * paddle.to_tensor(taken.astype(x.numpy().dtype))
        monkeypatch.setattr(F, 'relu_', relu)
        monkeypatch.setattr(cpu_gemm, 'SGEMM', cpu_gemm._load_sgemm() if kernels else None)
        paddle.seed(0)
        model = build_model({'framework': 'RecognizerGCN', 'backbone': {'name': 'STGCN', 'graph': graph},
                             'head': {'name': 'STGCNHead', 'num_classes': 3}})
        model.to(dtype=dtype)
        model.train()
        logits = model(paddle.to_tensor(data.astype(dtype)))
        F.cross_entropy(logits, labels).backward()
        grads = {n: p.grad.numpy().astype(np.float64) for n, p in model.named_parameters() if p.grad is not None}
        return logits.numpy(), grads, relus

    ours, paddle_fp32 = step('float32', True), step('float32', False)
    exact = step('float64', False, branches=[taken for _, taken in ours[2]])
    assert calls.count('TemporalConv') == 12 and calls.count('GraphConv') == 10 and len(calls) == 22
    np.testing.assert_allclose(ours[0], paddle_fp32[0], rtol=1e-5, atol=1e-5)
    assert ours[1].keys() == paddle_fp32[1].keys() == exact[1].keys() and len(exact[1]) > 70
    assert len(exact[2]) == 20 and sum(x.size for x, _ in exact[2]) > 1_000_000
    for x, taken in exact[2]:
        ties = (x > 0) != taken
        assert np.all(np.abs(x[ties]) < 1e-5 * x.std()), (np.abs(x[ties]) / x.std())
    worst = max(np.abs(ours[1][n] - g).max() / np.abs(g).max() for n, g in exact[1].items())
    assert worst < 1e-4, worst
