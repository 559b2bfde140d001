"""The ST-GCN block's GEMM kernels (modeling/backbones/cpu_gemm.py) against Paddle's own operators, with each
fp32 GEMM routine Paddle's wheel ships (MKL's, oneDNN's), and their bf16 variant against fp32."""
import contextlib
import os

import numpy as np
import paddle
import paddle.nn.functional as F
import pytest

from paddlevideo.modeling import build_model
from paddlevideo.modeling.backbones import cpu_gemm
from paddlevideo.modeling.backbones.stgcn import GraphConv as GraphConvLayer

pytestmark = pytest.mark.skipif(cpu_gemm.SGEMM is None, reason='this paddle wheel ships no libmklml_intel.so')
TOLERANCE = 0.35  # relative L2 error of a bf16 step's gradients against fp32 (see the test)
FP32_ROUTINES = [name for name in ('MKL_SGEMM', 'DNNL_SGEMM') if getattr(cpu_gemm, name) is not None]


@pytest.fixture(params=FP32_ROUTINES)
def routine(request, monkeypatch):
    """Each fp32 GEMM routine found, as the one the kernels call."""
    monkeypatch.setattr(cpu_gemm, 'SGEMM', getattr(cpu_gemm, request.param))
    return request.param


def assert_close(ours, ref):
    """To fp32 rounding: 1e-5 of each value, or 1e-6 of the largest where a sum cancels (GEMMs of different
    libraries add in different orders)."""
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=max(1e-5, 1e-6 * np.abs(ref).max()))


def tensor(rng, shape, grad=True):
    return paddle.to_tensor(rng.standard_normal(shape, dtype=np.float32), stop_gradient=not grad)


@pytest.mark.parametrize('t, kernel, stride', [
    (12, 9, 1), (3, 9, 1), (7, 3, 1),  # T=3: taps that reach past the clip drop out
    (12, 9, 2), (11, 9, 2), (3, 9, 2),  # ST-GCN's strided temporal conv; odd T: the phases differ in length
    (13, 1, 2),                         # its strided 1x1 residual: odd frames read by no tap, their gradient 0
    (10, 3, 4), (12, 9, 3)])            # phases without a shift-0 tap, and a third phase
def test_temporal_conv_equals_paddle_conv(routine, t, kernel, stride):
    rng = np.random.default_rng(0)
    out_len = (t - 1) // stride + 1
    x, w, dy = tensor(rng, (2, 5, t, 4)), tensor(rng, (6, 5, kernel, 1)), tensor(rng, (2, 6, out_len, 4), False)
    assert cpu_gemm.usable(x)
    ours = cpu_gemm.TemporalConv.apply(x, w, stride)
    ref = F.conv2d(x, w, stride=(stride, 1), padding=(kernel // 2, 0))
    assert ours.shape == ref.shape
    for a, b in zip([ours, *paddle.grad(ours, [x, w], dy)], [ref, *paddle.grad(ref, [x, w], dy)]):
        assert_close(a.numpy(), b.numpy())


@pytest.mark.parametrize('cin, bias, graph_grad', [(2, False, True), (7, True, True), (7, True, False)])
def test_graph_conv_equals_paddle_ops(routine, monkeypatch, cin, bias, graph_grad):
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
        assert_close(a.numpy(), b.numpy())


@pytest.mark.parametrize('stride', [1, 2])
def test_input_without_gradient_gets_none(routine, stride):
    rng = np.random.default_rng(2)
    x, w = tensor(rng, (1, 3, 5, 4), grad=False), tensor(rng, (3, 3, 3, 1))
    y = cpu_gemm.TemporalConv.apply(x, w, stride)
    (dw,) = paddle.grad(y, [w], paddle.ones_like(y))
    ref = F.conv2d(x, w, stride=(stride, 1), padding=(1, 0))
    np.testing.assert_allclose(dw.numpy(), paddle.grad(ref, [w], paddle.ones_like(ref))[0].numpy(), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.parametrize('graph', ['learnable', 'spatial'])
def test_training_step_takes_the_kernels_and_keeps_float64_accuracy(routine, monkeypatch, graph):
    """All 12 temporal convs (8 of stride 1, 2 strided, 2 strided 1x1 residuals) and all 10 graph convs of the
    model run the GEMM kernels, and one training step's gradients agree with the same step in float64 to 1e-4 of
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
        monkeypatch.setattr(cpu_gemm, 'SGEMM', getattr(cpu_gemm, routine) if kernels else None)
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


def bf16(t):
    """t rounded to nearest bf16, back in fp32 (what a bf16 operand holds)."""
    return paddle.cast(paddle.cast(t, 'bfloat16'), 'float32')


needs_bf16 = pytest.mark.skipif(cpu_gemm.BF16_GEMM is None, reason="Paddle's oneDNN has no bf16 GEMM here")


@needs_bf16
@pytest.mark.parametrize('count', [0, 1, 17, 100_003])
def test_bf16_rounding_is_paddle_cast_bit_for_bit(count):
    """oneDNN's reorder (Bf16Rounding, what the bf16 GEMMs' operands go through) gives paddle.cast's bits for
    every nonzero normal number and infinity: round to nearest, ties to even; NaN stays NaN, fp32 subnormals
    (below 1.2e-38) become zero of their sign, as the AVX512_BF16 instruction makes them, and zero stays zero
    (oneDNN's reorder on a CPU without AVX512_BF16, an AMD Zen 3, makes -0 +0: the same in any product or sum).
    A second size gets its own primitive."""
    rng = np.random.default_rng(6)
    bits = rng.integers(0, 2 ** 32, count, dtype=np.uint64).astype(np.uint32)
    special = np.array([0x3F808000, 0x3F818000, 0x3F80FFFF, 0x7F7FFFFF, 0x7F800000, 0xFF800000, 0x80000000,
                        0x00000001], dtype=np.uint32)[:count]  # ties to even (down, up), max finite -> inf, ...
    bits[:len(special)] = special
    x = bits.view(np.float32)
    ours = cpu_gemm.BF16_GEMM.operand(paddle.to_tensor(x)).view(paddle.uint16).numpy()
    ref = paddle.cast(paddle.to_tensor(x), 'bfloat16').view(paddle.uint16).numpy()
    nan, subnormal = np.isnan(x), (x != 0) & (np.abs(x) < np.finfo(np.float32).tiny)
    zero = x == 0
    normal = ~nan & ~subnormal & ~zero
    assert ours.shape == (count,) and np.array_equal(ours[normal], ref[normal])
    assert np.all(ours[zero] & 0x7FFF == 0)
    assert np.all(ours[subnormal] == (bits[subnormal] >> 16) & 0x8000)
    assert np.all((ours[nan] & 0x7F80 == 0x7F80) & (ours[nan] & 0x7F != 0))
    if count > 4:
        assert list(ours[:4]) == [0x3F80, 0x3F82, 0x3F81, 0x7F80]
    assert count < 1000 or nan.sum() > 10 and subnormal.sum() > 10  # random bits hold both kinds


@needs_bf16
@pytest.mark.parametrize('stride', [1, 2])
def test_bf16_temporal_conv_is_the_fp32_conv_of_bf16_operands(stride):
    """Under bf16_autocast the output and gradients are Paddle's fp32 convolution of x, w and dy rounded to bf16:
    the products are exact in fp32 and the sums fp32, so they agree to fp32 rounding, far below bf16's 4e-3."""
    rng = np.random.default_rng(4)
    x, w, dy = tensor(rng, (2, 5, 12, 4)), tensor(rng, (6, 5, 9, 1)), tensor(rng, (2, 6, 12 // stride, 4), False)
    with cpu_gemm.bf16_autocast():
        ours = cpu_gemm.TemporalConv.apply(x, w, stride)
    xb, wb = bf16(x), bf16(w)
    ref = F.conv2d(xb, wb, stride=(stride, 1), padding=(4, 0))
    got, want = [ours, *paddle.grad(ours, [x, w], dy)], [ref, *paddle.grad(ref, [xb, wb], bf16(dy))]
    for a, b in zip(got, want, strict=True):
        assert_close(a.numpy(), b.numpy())
    fp32 = F.conv2d(x, w, stride=(stride, 1), padding=(4, 0)).numpy()
    assert np.abs(ours.numpy() - fp32).max() > 1e-3 * np.abs(fp32).max()  # it did round


@needs_bf16
@pytest.mark.parametrize('graph', ['learnable', 'spatial'])
def test_bf16_training_step_gradients_match_fp32(monkeypatch, graph):
    """A training step with every kernel under bf16_autocast (as --amp runs it on an AMX CPU) against the fp32
    step: all its gradients together within TOLERANCE of the fp32 ones (relative L2 norm), the logits within 3%.

    That is a loose bound because this untrained network at batch 4 is ill-conditioned: its fp32 step is 1e-6
    from float64 (17 units of fp32 rounding), and PyTorch's CPU autocast puts the same network in bf16 at 0.255
    from its fp32 step, logits 1.0% (torch 2.13, same data shape; ours 0.25 and 1.3%). The kernels themselves are
    checked to fp32 rounding above; a wrong offset would put the gradients ~100% off."""
    rng = np.random.default_rng(5)
    data = rng.uniform(-1, 1, (4, 2, 20, 25, 1)).astype('float32')
    labels = paddle.to_tensor(rng.integers(0, 3, 4))

    def step(autocast):
        paddle.seed(0)
        model = build_model({'framework': 'RecognizerGCN', 'backbone': {'name': 'STGCN', 'graph': graph},
                             'head': {'name': 'STGCNHead', 'num_classes': 3}})
        model.train()
        with cpu_gemm.bf16_autocast() if autocast else contextlib.nullcontext():
            logits = model(paddle.to_tensor(data))
        F.cross_entropy(logits, labels).backward()  # outside: the kernels' backward runs as their forward did
        grads = [p.grad.numpy().ravel() for p in model.parameters() if p.grad is not None]
        return logits.numpy(), np.concatenate(grads), len(grads)

    calls = []
    monkeypatch.setattr(cpu_gemm.BF16_GEMM, 'function', lambda *args, _f=cpu_gemm.BF16_GEMM.function:
                        calls.append(args[2]) or _f(*args))
    (logits, grads, count), (logits32, grads32, count32) = step(True), step(False)
    assert len(calls) > 1000 and count == count32 > 70
    np.testing.assert_allclose(logits, logits32, atol=0.03 * np.abs(logits32).max())
    error = np.linalg.norm(grads - grads32) / np.linalg.norm(grads32)
    assert 1e-3 < error < TOLERANCE, error  # above 1e-3: bf16 rounding, not fp32's


AMP_LINES = [  # CPU flags, whether it is AMD's, whether the steps run bf16, how --amp's line ends
    ({'avx512_bf16', 'amx_bf16', 'amx_tile'}, False, True, 'multiply in bf16 here (AMX), accumulating in fp32; '
                                                           'weights, BatchNorm, loss and optimizer state stay fp32'),
    ({'avx512_bf16'}, True, True, 'multiply in bf16 here (AVX512_BF16 on AMD), accumulating in fp32; weights, '
                                  'BatchNorm, loss and optimizer state stay fp32'),
    ({'avx512_bf16'}, False, False, 'this CPU has avx512_bf16 but no AMX: bf16 GEMMs measured slower than fp32 on '
                                    'such an Intel CPU, training in float32'),
    ({'avx2'}, True, False, 'this CPU has no bf16 instructions (AMX, avx512_bf16): training in float32')]


@needs_bf16
@pytest.mark.parametrize('flags, amd, bf16, says', AMP_LINES)
def test_amp_on_cpu_trains_bf16_where_it_is_faster(penn, tmp_path, monkeypatch, flags, amd, bf16, says):
    """main.py --amp on the CPU: one line saying what it does, and the training steps' GEMMs in bf16 only where
    oneDNN's bf16 GEMM beats fp32 (AMX, AMD's AVX512_BF16; validation stays fp32). This machine's own flags give
    one of these lines."""
    from test_train import subset, write_config
    from paddlevideo.tasks.train import train_model
    from paddlevideo.utils.config import get_config

    assert any(cpu_gemm.amp_on_cpu()[1].endswith(line) for *_, line in AMP_LINES)
    monkeypatch.setattr(cpu_gemm, 'cpu_flags', lambda: flags)
    monkeypatch.setattr(cpu_gemm, 'cpu_is_amd', lambda: amd)
    bf16_calls, fp32_calls = [], []
    for gemm, calls in ((cpu_gemm.BF16_GEMM, bf16_calls), (cpu_gemm.SGEMM, fp32_calls)):
        monkeypatch.setattr(gemm, 'function', lambda *args, _f=gemm.function, _calls=calls:
                            _calls.append(args[2]) or _f(*args))
    data = subset(penn['train_x'], penn['train_y'], 1)
    cfg = get_config(write_config(tmp_path, {'train': data, 'valid': data}, window=16, epochs=1, batch=8))
    train_model(cfg, amp=True, validate=True)
    lines = [line for line in open(os.path.join(cfg.output_dir, 'train.log')) if '--amp' in line]
    assert len(lines) == 1 and lines[0].rstrip().endswith(says), lines
    assert lines[0].split('--amp: ')[1].startswith('on the CPU, Paddle 3.3.1 autocast keeps every op in float32')
    assert (len(bf16_calls) > 0) == bf16
    assert len(fp32_calls) > 0  # validation (and the steps, without AMX)
