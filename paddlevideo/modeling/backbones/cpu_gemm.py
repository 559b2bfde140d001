"""The ST-GCN block's graph and temporal convolutions as direct MKL GEMMs, for dygraph on the CPU.

Paddle's CPU convolution unfolds its input (im2col) before each GEMM. On the FSD shape (batch 4) its 9x1
temporal convolution trains (forward + backward) at 41-79 GFLOP/s on one thread and 53-118 on two, where the
GEMMs alone run at 86-98 on one. Here the temporal convolution is one GEMM per tap on a shifted view of the
input (72-87 GFLOP/s on one thread, 140-175 on two; a strided one splits its frames by phase first), and the
graph convolution is a joint-mixing GEMM per subset followed by one channel-mixing GEMM, all through
``cblas_sgemm`` of the MKL that Paddle's wheel ships (the library Paddle's own kernels call). The sums are the
same; only fp32 rounding differs (tests/test_cpu_gemm.py). The graph convolution keeps only its input for the
backward pass and recomputes the joint mixing there: one activation per block instead of a three-subset copy.

`usable(x)` says when this runs: dygraph, a float32 CPU tensor, and Paddle's MKL found. Everything else (GPU,
export, other dtypes) runs Paddle's operators.
"""
import ctypes

import numpy as np
import paddle
from paddle.autograd import PyLayer

from ...utils.runtime import paddle_mkl

_ROW_MAJOR, _N, _T = 101, 111, 112
_FLOAT = 4  # bytes


def _load_sgemm():
    sgemm = getattr(paddle_mkl(), 'cblas_sgemm', None)  # already loaded by paddle: the same library and threads
    if sgemm is None:
        return None
    sgemm.restype = None
    sgemm.argtypes = [ctypes.c_int] * 6 + [ctypes.c_float, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p,
                                           ctypes.c_int, ctypes.c_float, ctypes.c_void_p, ctypes.c_int]
    return sgemm


SGEMM = _load_sgemm()  # None: Paddle's operators run instead (no MKL here, or set so to compare)


def usable(x):
    """Whether the MKL kernels below can run on x."""
    return (SGEMM is not None and paddle.in_dynamic_mode() and x.place.is_cpu_place()
            and x.dtype == paddle.float32)


def _gemm(m, n, k, a, lda, b, ldb, c, ldc, trans_a=False, trans_b=False, beta=0.0):
    """c (m x n, row-major, pointer) = op(a) @ op(b) + beta * c."""
    SGEMM(_ROW_MAJOR, _T if trans_a else _N, _T if trans_b else _N, m, n, k, 1.0, a, lda, b, ldb, beta, c, ldc)


def _array(tensor):
    """A numpy view of a contiguous float32 CPU tensor's memory (no copy)."""
    pointer = ctypes.cast(tensor.data_ptr(), ctypes.POINTER(ctypes.c_float))
    return np.ctypeslib.as_array(pointer, shape=tuple(tensor.shape))


class _Phases:
    """A 'same'-padded (K, 1) temporal convolution of stride s over T frames of V joints, split by phase: the
    frames t = s*t' + p that some tap reads, phase by phase, L = ceil(T / s) frames each (a sample of C
    channels is then a (C, P*L*V) matrix). Stride 1 has one phase, the input itself."""

    def __init__(self, kernel, stride, frames, joints):
        self.stride, self.frames, self.joints = stride, frames, joints
        self.pad = (kernel - 1) // 2
        self.phases = sorted({(j - self.pad) % stride for j in range(kernel)})
        self.out_len = (frames - 1) // stride + 1
        self.lens = [(frames - 1 - p) // stride + 1 for p in self.phases]
        self.row = len(self.phases) * self.out_len * joints  # floats per channel
        # (tap, slot, shift, first, end): output frames [first, end) of tap j read frames + shift of phase
        # (j - pad) mod s (slot: its index in self.phases). The shift-0 taps come first, the centre one first of
        # all: each phase has at most one, which covers the whole phase (the centre one the output too), so it
        # overwrites; the rest accumulate.
        self.taps = []
        for j in sorted(range(kernel), key=lambda j: ((j - self.pad) // stride != 0, j != self.pad, j)):
            slot, shift = self.phases.index((j - self.pad) % stride), (j - self.pad) // stride
            first, end = max(0, -shift), min(self.out_len, self.lens[slot] - shift)
            if end > first:
                self.taps.append((j, slot, shift, first, end))

    def offset(self, slot, frame):
        """Bytes from a channel's start to `frame` of phase `slot`."""
        return _FLOAT * (slot * self.out_len + frame) * self.joints

    def split(self, x):
        """(N, C, T, V) -> (N, C, P, L, V), the phases apart (numpy: Paddle's strided copy was 4x slower)."""
        if self.stride == 1:
            return x
        xs = paddle.empty([x.shape[0], x.shape[1], len(self.phases), self.out_len, self.joints], dtype=x.dtype)
        frames, split = _array(x), _array(xs)
        for slot, p in enumerate(self.phases):
            split[:, :, slot, :self.lens[slot]] = frames[:, :, p::self.stride]
        return xs

    def merge(self, xs):
        """The inverse of split; frames of a phase no tap reads are 0."""
        if self.stride == 1:
            return xs
        shape = [xs.shape[0], xs.shape[1], self.frames, self.joints]
        x = (paddle.empty if len(self.phases) == self.stride else paddle.zeros)(shape, dtype=xs.dtype)
        frames, split = _array(x), _array(xs)
        for slot, p in enumerate(self.phases):
            frames[:, :, p::self.stride] = split[:, :, slot, :self.lens[slot]]
        return x


class TemporalConv(PyLayer):
    """conv2d(x, weight, stride (s, 1), padding ((K-1)/2, 0)) for x (N, C, T, V), weight (Cout, C, K, 1), K odd.

    Output frame t' of tap j reads frame s*t' + j - pad: phase (j - pad) mod s at frame t' + floor((j - pad) / s),
    a shifted view of that phase's (C, L*V) matrix (_Phases). So y_n = sum_j W_j (phase of j, shifted), one
    GEMM per tap; the zero padding is the columns a shift leaves out.
    """

    @staticmethod
    def forward(ctx, x, weight, stride=1):
        x = x.contiguous()
        n, cin, t, v = x.shape
        cout, kernel = weight.shape[0], weight.shape[2]
        geo = _Phases(kernel, stride, t, v)
        xs = geo.split(x)
        taps = weight.reshape([cout, cin, kernel]).transpose([2, 0, 1]).contiguous()  # (K, Cout, Cin)
        y = paddle.empty([n, cout, geo.out_len, v], dtype=x.dtype)
        cols = geo.out_len * v
        for i in range(n):
            xi, yi = xs.data_ptr() + _FLOAT * i * cin * geo.row, y.data_ptr() + _FLOAT * i * cout * cols
            for j, slot, shift, first, end in geo.taps:
                _gemm(cout, (end - first) * v, cin, taps.data_ptr() + _FLOAT * j * cout * cin, cin,
                      xi + geo.offset(slot, first + shift), geo.row, yi + _FLOAT * first * v, cols,
                      beta=float(j != geo.pad))
        ctx.save_for_backward(xs, taps)
        ctx.geo, ctx.x_needs_grad = geo, not x.stop_gradient
        return y

    @staticmethod
    def backward(ctx, dy):
        xs, taps = ctx.saved_tensor()
        geo, dy = ctx.geo, dy.contiguous()
        n, cin, v = xs.shape[0], xs.shape[1], geo.joints
        kernel, cout, cols = taps.shape[0], taps.shape[1], geo.out_len * v
        dxs = None
        if ctx.x_needs_grad:  # a phase without a shift-0 tap (none in ST-GCN) is never overwritten: start at 0
            covered = {slot for _, slot, shift, _, _ in geo.taps if shift == 0}
            dxs = (paddle.empty_like if len(covered) == len(geo.phases) else paddle.zeros_like)(xs)
        dtaps = paddle.zeros_like(taps)
        for i in range(n):
            xi, dyi = xs.data_ptr() + _FLOAT * i * cin * geo.row, dy.data_ptr() + _FLOAT * i * cout * cols
            for j, slot, shift, first, end in geo.taps:
                w_j, dw_j = (p + _FLOAT * j * cout * cin for p in (taps.data_ptr(), dtaps.data_ptr()))
                at = geo.offset(slot, first + shift)
                # dW_j += dy[:, first:end] phase[:, first+shift:end+shift]^T
                _gemm(cout, cin, (end - first) * v, dyi + _FLOAT * first * v, cols, xi + at, geo.row, dw_j, cin,
                      trans_b=True, beta=1.0)
                if dxs is not None:  # dphase[:, first+shift:end+shift] += W_j^T dy[:, first:end]
                    _gemm(cin, (end - first) * v, cout, w_j, cin, dyi + _FLOAT * first * v, cols,
                          dxs.data_ptr() + _FLOAT * i * cin * geo.row + at, geo.row, trans_a=True,
                          beta=float(shift != 0))
        dx = None if dxs is None else geo.merge(dxs)
        # contiguous: DataParallel all-reduces a gradient's memory, and a transposed view's memory is in tap order
        return dx, dtaps.transpose([1, 2, 0]).unsqueeze(3).contiguous()


class GraphConv(PyLayer):
    """sum_k W_k (x G_k) (+ b_k colsum(G_k)) for x (N, Cin, T, V), graph (K, V, W), weight (K*Cout, Cin, 1, 1)
    and an optional bias (K*Cout,), the bias of PaddleVideo's convolution carried through the graph -> (N, Cout,
    T, W).

    Per sample: z_k = x (Cin*T, V) @ G_k, stacked subset-major into a (K*Cin, T*W) matrix, then y = W' z with
    W' (Cout, K*Cin). A bias is K more columns of W' against K rows of z that hold each subset's column sums.
    Only x is kept for the backward pass, which recomputes z (a tenth of the FLOPs).
    """

    @staticmethod
    def forward(ctx, x, graph, weight, bias=None):
        x, graph = x.contiguous(), graph.contiguous()
        n, cin, t, v = x.shape
        k, w = graph.shape[0], graph.shape[2]
        cout = weight.shape[0] // k
        mix = weight.reshape([k, cout, cin]).transpose([1, 0, 2]).reshape([cout, k * cin])
        if bias is not None:
            mix = paddle.concat([mix, bias.reshape([k, cout]).t()], axis=1)
        mix = mix.contiguous()                                              # (Cout, K*Cin [+ K])
        y = paddle.empty([n, cout, t, w], dtype=x.dtype)
        z = _mixed_joints_buffer(graph, cin, t, bias is not None)
        for i in range(n):
            _GraphPlan(x, graph, i).mix_joints(z)
            _gemm(cout, t * w, z.shape[0], mix.data_ptr(), mix.shape[1], z.data_ptr(), t * w,
                  y.data_ptr() + _FLOAT * i * cout * t * w, t * w)
        ctx.save_for_backward(x, graph, mix)
        ctx.needs_grad = (not x.stop_gradient, not graph.stop_gradient)
        ctx.has_bias = bias is not None
        return y

    @staticmethod
    def backward(ctx, dy):
        x, graph, mix = ctx.saved_tensor()
        dy = dy.contiguous()
        n, cin, t, v = x.shape
        k, w = graph.shape[0], graph.shape[2]
        cout, cols = mix.shape
        dx = paddle.empty_like(x) if ctx.needs_grad[0] else None
        dgraph = paddle.zeros_like(graph) if ctx.needs_grad[1] else None
        dmix = paddle.zeros_like(mix)
        z, dz = _mixed_joints_buffer(graph, cin, t, ctx.has_bias), paddle.empty([k * cin, t * w])
        dsums = paddle.zeros([k, t * w]) if ctx.has_bias and dgraph is not None else None
        rows = cin * t
        for i in range(n):
            plan = _GraphPlan(x, graph, i)
            dyi = dy.data_ptr() + _FLOAT * i * cout * t * w
            plan.mix_joints(z)
            _gemm(cout, cols, t * w, dyi, t * w, z.data_ptr(), t * w, dmix.data_ptr(), cols, trans_b=True,
                  beta=1.0)                                                      # dW' += dy z^T
            _gemm(k * cin, t * w, cout, mix.data_ptr(), cols, dyi, t * w, dz.data_ptr(), t * w, trans_a=True)
            if dsums is not None:                                                # d(column sums) += B^T dy
                _gemm(k, t * w, cout, mix.data_ptr() + _FLOAT * k * cin, cols, dyi, t * w, dsums.data_ptr(),
                      t * w, trans_a=True, beta=1.0)
            for s in range(k):
                dz_s = dz.data_ptr() + _FLOAT * s * rows * w
                if dgraph is not None:                                           # dG_s += x^T dz_s
                    _gemm(v, w, rows, plan.x, v, dz_s, w, dgraph.data_ptr() + _FLOAT * s * v * w, w,
                          trans_a=True, beta=1.0)
                if dx is not None:                                               # dx += dz_s G_s^T
                    _gemm(rows, v, w, dz_s, w, plan.graph(s), w, dx.data_ptr() + _FLOAT * i * rows * v, v,
                          trans_b=True, beta=float(s > 0))
        if dsums is not None:  # every G_s[v, w] adds to column sum w of every frame
            dgraph = dgraph + dsums.reshape([k, t, w]).sum(axis=1, keepdim=True)
        dweight = dmix[:, :k * cin].reshape([cout, k, cin]).transpose([1, 0, 2]).reshape([k * cout, cin, 1, 1])
        if not ctx.has_bias:
            return dx, dgraph, dweight
        return dx, dgraph, dweight, dmix[:, k * cin:].t().reshape([k * cout])


def _mixed_joints_buffer(graph, cin, t, with_bias):
    """(K*Cin [+ K], T*W) for the joint-mixed input; with a bias, its last K rows hold colsum(G_k) per frame."""
    k, w = graph.shape[0], graph.shape[2]
    z = paddle.empty([k * cin + (k if with_bias else 0), t * w], dtype=graph.dtype)
    if with_bias:  # written in place: a concat would copy the whole (uninitialised) buffer
        _array(z)[k * cin:].reshape(k, t, w)[:] = graph.sum(axis=1, keepdim=True).numpy()
    return z


class _GraphPlan:
    """Pointers for sample i of GraphConv: its (Cin*T, V) input and the (V, W) subsets."""

    def __init__(self, x, graph, i):
        self.k, self.v, self.w = graph.shape
        self.rows = x.shape[1] * x.shape[2]
        self.x = x.data_ptr() + _FLOAT * i * self.rows * self.v
        self._graph = graph.data_ptr()

    def graph(self, s):
        return self._graph + _FLOAT * s * self.v * self.w

    def mix_joints(self, z):
        """z (K*Cin, T*W) = [x G_0; ...; x G_{K-1}], each block (Cin*T, W)."""
        for s in range(self.k):
            _gemm(self.rows, self.w, self.v, self.x, self.v, self.graph(s), self.w,
                  z.data_ptr() + _FLOAT * s * self.rows * self.w, self.w)
