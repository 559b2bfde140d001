"""The ST-GCN block's graph and temporal convolutions as direct GEMMs, for dygraph on the CPU.

Paddle's CPU convolution unfolds its input (im2col) before each GEMM. On the FSD shape (batch 4) its 9x1
temporal convolution trains (forward + backward) at 41-79 GFLOP/s on one thread and 53-118 on two, where the
GEMMs alone run at 86-98 on one. Here the temporal convolution is one GEMM per tap on a shifted view of the
input (72-87 GFLOP/s on one thread, 140-175 on two; a strided one splits its frames by phase first), and the
graph convolution is a joint-mixing GEMM per subset followed by one channel-mixing GEMM. The sums are the same;
only fp32 rounding differs (tests/test_cpu_gemm.py). The graph convolution keeps only its input for the
backward pass and recomputes the joint mixing there: one activation per block instead of a three-subset copy.

The GEMMs are direct calls into the libraries Paddle's wheel ships (the ones its own kernels call, already
loaded): MKL's ``cblas_sgemm`` or oneDNN's ``dnnl_sgemm`` in fp32 (SGEMM: oneDNN's on AMD, where MKL
takes a slower path, MKL's elsewhere; docs/benchmarks.md), and under ``bf16_autocast()`` oneDNN's
``dnnl_gemm_bf16bf16f32``, whose operands are rounded to bf16 (by oneDNN's reorder) and whose accumulation and
output stay fp32, as PyTorch's CPU autocast runs convolutions and matmuls.

`usable(x)` says when this runs: dygraph, a float32 CPU tensor, and the GEMM routine found. Everything else
(GPU, export, other dtypes) runs Paddle's operators.
"""
import contextlib
import ctypes

import numpy as np
import paddle
from paddle.autograd import PyLayer

from ...utils import runtime
from ...utils.runtime import cpu_flags, cpu_is_amd

_ROW_MAJOR, _N, _T = 101, 111, 112
_FLOAT = 4  # bytes


def _check(status, call):
    if status:
        raise RuntimeError(f'oneDNN {call} returned status {status}, expected 0 (success)')


class Bf16Rounding:
    """fp32 -> bf16, rounded to nearest even, by oneDNN's reorder primitive: paddle.cast's bits (but for fp32
    subnormals, which become zero, NaN payloads and, without AVX512_BF16, the sign of zero), vectorised and on
    Paddle's OpenMP threads, where paddle.cast runs on one thread, many times slower (docs/benchmarks.md). One
    primitive per element count."""

    _F32, _BF16, _FLAT, _CPU, _IN_ORDER, _SRC, _DST = 3, 2, 2, 1, 1, 1, 17  # oneDNN 3's enum values

    class _Arg(ctypes.Structure):
        _fields_ = [('arg', ctypes.c_int), ('memory', ctypes.c_void_p)]

    def __init__(self, library):
        self.lib, self.primitives = library, {}
        library.dnnl_memory_set_data_handle.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
        library.dnnl_primitive_execute.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
        self.engine, self.stream = ctypes.c_void_p(), ctypes.c_void_p()
        _check(library.dnnl_engine_create(ctypes.byref(self.engine), self._CPU, 0), 'dnnl_engine_create')
        _check(library.dnnl_stream_create(ctypes.byref(self.stream), self.engine, self._IN_ORDER),
               'dnnl_stream_create')

    def _primitive(self, count):
        """(reorder, source memory, destination memory, execution arguments) for `count` elements; the two
        memories' data pointers are set per call. Made on first use and kept (a training step has ~100 sizes)."""
        if count not in self.primitives:
            lib, dims, made = self.lib, (ctypes.c_int64 * 1)(count), []
            for dtype in (self._F32, self._BF16):
                desc, memory = ctypes.c_void_p(), ctypes.c_void_p()
                _check(lib.dnnl_memory_desc_create_with_tag(ctypes.byref(desc), 1, dims, dtype, self._FLAT),
                       'dnnl_memory_desc_create_with_tag')
                _check(lib.dnnl_memory_create(ctypes.byref(memory), desc, self.engine, None), 'dnnl_memory_create')
                made.append((desc, memory))
            (src, src_memory), (dst, dst_memory) = made
            pd, reorder = ctypes.c_void_p(), ctypes.c_void_p()
            _check(lib.dnnl_reorder_primitive_desc_create(ctypes.byref(pd), src, self.engine, dst, self.engine,
                                                          None), 'dnnl_reorder_primitive_desc_create')
            _check(lib.dnnl_primitive_create(ctypes.byref(reorder), pd), 'dnnl_primitive_create')
            args = (self._Arg * 2)(self._Arg(self._SRC, src_memory), self._Arg(self._DST, dst_memory))
            self.primitives[count] = reorder, src_memory, dst_memory, args
        return self.primitives[count]

    def __call__(self, tensor):
        """`tensor` (contiguous fp32, on the CPU) rounded to a new bf16 tensor of its shape."""
        out = paddle.empty(tensor.shape, dtype='bfloat16')
        if tensor.size:
            reorder, src, dst, args = self._primitive(tensor.size)
            self.lib.dnnl_memory_set_data_handle(src, tensor.data_ptr())
            self.lib.dnnl_memory_set_data_handle(dst, out.data_ptr())
            _check(self.lib.dnnl_primitive_execute(reorder, self.stream, 2, args), 'dnnl_primitive_execute')
            _check(self.lib.dnnl_stream_wait(self.stream), 'dnnl_stream_wait')
        return out


class Gemm:
    """A row-major GEMM of Paddle's libraries: c (fp32) = op(a) @ op(b) + beta * c, with a and b of `dtype`."""

    def __init__(self, name, function, dtype, rounding=None):
        self.name, self.function, self.dtype, self.rounding = name, function, dtype, rounding
        self.size = 2 if dtype == paddle.bfloat16 else 4  # bytes per operand element
        self.cblas = name == 'cblas_sgemm'  # else oneDNN's: char transposes, int64 sizes, a status returned
        int_t, trans_t = (ctypes.c_int, ctypes.c_int) if self.cblas else (ctypes.c_int64, ctypes.c_char)
        function.argtypes = ([ctypes.c_int] * self.cblas + [trans_t] * 2 + [int_t] * 3
                             + [ctypes.c_float, ctypes.c_void_p, int_t, ctypes.c_void_p, int_t, ctypes.c_float,
                                ctypes.c_void_p, int_t])
        function.restype = None if self.cblas else ctypes.c_int

    def __call__(self, m, n, k, a, lda, b, ldb, c, ldc, trans_a=False, trans_b=False, beta=0.0):
        if self.cblas:
            return self.function(_ROW_MAJOR, _T if trans_a else _N, _T if trans_b else _N, m, n, k, 1.0, a, lda,
                                 b, ldb, beta, c, ldc)
        status = self.function(b'T' if trans_a else b'N', b'T' if trans_b else b'N', m, n, k, 1.0, a, lda, b, ldb,
                               beta, c, ldc)
        if status:
            raise RuntimeError(f'{self.name}({m}, {n}, {k}) returned oneDNN status {status}, expected 0')

    def operand(self, tensor):
        """`tensor` (contiguous fp32) as this routine's a or b: itself, or rounded to nearest bf16."""
        return tensor if self.dtype == paddle.float32 else self.rounding(tensor)


def _routine(name, dtype):
    """The Gemm `name` from Paddle's MKL (cblas_sgemm) or oneDNN (dnnl_*), or None where the wheel has none."""
    library = runtime.paddle_mkl() if name == 'cblas_sgemm' else runtime.paddle_library('libdnnl.so.3')
    function = getattr(library, name, None)  # already loaded by paddle: the same library and threads
    if function is None:
        return None
    return Gemm(name, function, dtype, Bf16Rounding(library) if dtype == paddle.bfloat16 else None)


MKL_SGEMM = _routine('cblas_sgemm', paddle.float32)
DNNL_SGEMM = _routine('dnnl_sgemm', paddle.float32)
BF16_GEMM = _routine('dnnl_gemm_bf16bf16f32', paddle.bfloat16)
# the fp32 routine; None: Paddle's operators run instead (no library here, or set so to compare)
SGEMM = (DNNL_SGEMM or MKL_SGEMM) if cpu_is_amd() else (MKL_SGEMM or DNNL_SGEMM)
_autocast = False


@contextlib.contextmanager
def bf16_autocast():
    """Kernels started inside multiply in bf16 (BF16_GEMM), their backward passes too, wherever they run."""
    global _autocast
    if BF16_GEMM is None:
        raise RuntimeError("bf16_autocast: Paddle's libdnnl.so.3 has no dnnl_gemm_bf16bf16f32")
    outer, _autocast = _autocast, True
    try:
        yield
    finally:
        _autocast = outer


def amp_on_cpu():
    """(bf16, line) for ``--amp`` on the CPU: whether the training step runs under bf16_autocast, and one line
    saying what --amp does here. bf16 where oneDNN's bf16 GEMM measured faster than its fp32 one: with AMX, and on
    AMD's AVX512_BF16; not on Intel's AVX512_BF16 without AMX (docs/benchmarks.md)."""
    flags = cpu_flags()
    said = '--amp: on the CPU, Paddle 3.3.1 autocast keeps every op in float32 (bfloat16 included, measured)'
    if SGEMM is None or BF16_GEMM is None:
        return False, f"{said}, and this Paddle wheel's oneDNN has no bf16 GEMM: training in float32"
    how = ('the graph and temporal convolutions multiply in bf16 here ({}), accumulating in fp32; weights, '
           'BatchNorm, loss and optimizer state stay fp32')
    if 'amx_bf16' in flags:
        return True, f'{said}, so {how.format("AMX")}'
    if 'avx512_bf16' in flags and cpu_is_amd():
        return True, f'{said}, so {how.format("AVX512_BF16 on AMD")}'
    if 'avx512_bf16' in flags:
        return False, (f'{said}, and this CPU has avx512_bf16 but no AMX: bf16 GEMMs measured slower than fp32 '
                       'on such an Intel CPU, training in float32')
    return False, f'{said}, and this CPU has no bf16 instructions (AMX, avx512_bf16): training in float32'


def usable(x):
    """Whether the GEMM kernels below can run on x."""
    return (SGEMM is not None and paddle.in_dynamic_mode() and x.place.is_cpu_place()
            and x.dtype == paddle.float32)


def _gemm_now():
    return BF16_GEMM if _autocast else SGEMM


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
        """Elements from a channel's start to `frame` of phase `slot`."""
        return (slot * self.out_len + frame) * self.joints

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
    GEMM per tap; the zero padding is the columns a shift leaves out. The backward pass multiplies the operands
    the forward did (bf16 ones under bf16_autocast, kept instead of the fp32 input).
    """

    @staticmethod
    def forward(ctx, x, weight, stride=1):
        gemm = _gemm_now()
        x = x.contiguous()
        n, cin, t, v = x.shape
        cout, kernel = weight.shape[0], weight.shape[2]
        geo = _Phases(kernel, stride, t, v)
        xs = gemm.operand(geo.split(x))
        taps = gemm.operand(weight.reshape([cout, cin, kernel]).transpose([2, 0, 1]).contiguous())  # (K, Cout, Cin)
        y = paddle.empty([n, cout, geo.out_len, v], dtype=x.dtype)
        cols, e = geo.out_len * v, gemm.size
        for i in range(n):
            xi, yi = xs.data_ptr() + e * i * cin * geo.row, y.data_ptr() + _FLOAT * i * cout * cols
            for j, slot, shift, first, end in geo.taps:
                gemm(cout, (end - first) * v, cin, taps.data_ptr() + e * j * cout * cin, cin,
                     xi + e * geo.offset(slot, first + shift), geo.row, yi + _FLOAT * first * v, cols,
                     beta=float(j != geo.pad))
        ctx.save_for_backward(xs, taps)
        ctx.geo, ctx.gemm, ctx.x_needs_grad = geo, gemm, not x.stop_gradient
        return y

    @staticmethod
    def backward(ctx, dy):
        xs, taps = ctx.saved_tensor()
        geo, gemm = ctx.geo, ctx.gemm
        dy = gemm.operand(dy.contiguous())
        n, cin, v = xs.shape[0], xs.shape[1], geo.joints
        kernel, cout, cols, e = taps.shape[0], taps.shape[1], geo.out_len * v, gemm.size
        dxs = None
        if ctx.x_needs_grad:  # a phase without a shift-0 tap (none in ST-GCN) is never overwritten: start at 0
            covered = {slot for _, slot, shift, _, _ in geo.taps if shift == 0}
            dxs = (paddle.empty if len(covered) == len(geo.phases) else paddle.zeros)(xs.shape, dtype='float32')
        dtaps = paddle.zeros(taps.shape, dtype='float32')
        for i in range(n):
            xi, dyi = xs.data_ptr() + e * i * cin * geo.row, dy.data_ptr() + e * i * cout * cols
            for j, slot, shift, first, end in geo.taps:
                at = geo.offset(slot, first + shift)
                # dW_j += dy[:, first:end] phase[:, first+shift:end+shift]^T
                gemm(cout, cin, (end - first) * v, dyi + e * first * v, cols, xi + e * at, geo.row,
                     dtaps.data_ptr() + _FLOAT * j * cout * cin, cin, trans_b=True, beta=1.0)
                if dxs is not None:  # dphase[:, first+shift:end+shift] += W_j^T dy[:, first:end]
                    gemm(cin, (end - first) * v, cout, taps.data_ptr() + e * j * cout * cin, cin,
                         dyi + e * first * v, cols, dxs.data_ptr() + _FLOAT * (i * cin * geo.row + at), geo.row,
                         trans_a=True, beta=float(shift != 0))
        dx = None if dxs is None else geo.merge(dxs)
        # contiguous: DataParallel all-reduces a gradient's memory, and a transposed view's memory is in tap order
        return dx, dtaps.transpose([1, 2, 0]).unsqueeze(3).contiguous()


class GraphConv(PyLayer):
    """sum_k W_k (x G_k) (+ b_k colsum(G_k)) for x (N, Cin, T, V), graph (K, V, W), weight (K*Cout, Cin, 1, 1)
    and an optional bias (K*Cout,), the bias of PaddleVideo's convolution carried through the graph -> (N, Cout,
    T, W).

    Per sample: z_k = x (Cin*T, V) @ G_k, stacked subset-major into a (K*Cin, T*W) matrix, then y = W' z with
    W' (Cout, K*Cin). A bias is K more columns of W' against K rows of z that hold each subset's column sums.
    Only x is kept for the backward pass, which recomputes z (a tenth of the FLOPs). Under bf16_autocast x, the
    graph, W' and z are rounded to bf16 as operands (z once it is summed in fp32), and so are dy and dz.
    """

    @staticmethod
    def forward(ctx, x, graph, weight, bias=None):
        gemm = _gemm_now()
        n, cin, t, v = x.shape
        k, w = graph.shape[0], graph.shape[2]
        cout = weight.shape[0] // k
        mix = weight.reshape([k, cout, cin]).transpose([1, 0, 2]).reshape([cout, k * cin])
        if bias is not None:
            mix = paddle.concat([mix, bias.reshape([k, cout]).t()], axis=1)
        ctx.needs_grad = (not x.stop_gradient, not graph.stop_gradient)
        x, graph, mix = (gemm.operand(a.contiguous()) for a in (x, graph, mix))  # mix: (Cout, K*Cin [+ K])
        y = paddle.empty([n, cout, t, w], dtype='float32')
        z = _mixed_joints_buffer(graph, cin, t, bias is not None)
        for i in range(n):
            zi = _GraphPlan(gemm, x, graph, i).mix_joints(z)
            gemm(cout, t * w, z.shape[0], mix.data_ptr(), mix.shape[1], zi.data_ptr(), t * w,
                 y.data_ptr() + _FLOAT * i * cout * t * w, t * w)
        ctx.save_for_backward(x, graph, mix)
        ctx.gemm, ctx.has_bias = gemm, bias is not None
        return y

    @staticmethod
    def backward(ctx, dy):
        x, graph, mix = ctx.saved_tensor()
        gemm, e = ctx.gemm, ctx.gemm.size
        dy = gemm.operand(dy.contiguous())
        n, cin, t, v = x.shape
        k, w = graph.shape[0], graph.shape[2]
        cout, cols = mix.shape
        dx = paddle.empty(x.shape, dtype='float32') if ctx.needs_grad[0] else None
        dgraph = paddle.zeros(graph.shape, dtype='float32') if ctx.needs_grad[1] else None
        dmix = paddle.zeros(mix.shape, dtype='float32')
        z, dz = _mixed_joints_buffer(graph, cin, t, ctx.has_bias), paddle.empty([k * cin, t * w])
        dsums = paddle.zeros([k, t * w]) if ctx.has_bias and dgraph is not None else None
        rows = cin * t
        for i in range(n):
            plan = _GraphPlan(gemm, x, graph, i)
            dyi = dy.data_ptr() + e * i * cout * t * w
            zi = plan.mix_joints(z)
            gemm(cout, cols, t * w, dyi, t * w, zi.data_ptr(), t * w, dmix.data_ptr(), cols, trans_b=True,
                 beta=1.0)                                                       # dW' += dy z^T
            gemm(k * cin, t * w, cout, mix.data_ptr(), cols, dyi, t * w, dz.data_ptr(), t * w, trans_a=True)
            if dsums is not None:                                                # d(column sums) += B^T dy
                gemm(k, t * w, cout, mix.data_ptr() + e * k * cin, cols, dyi, t * w, dsums.data_ptr(), t * w,
                     trans_a=True, beta=1.0)
            dzi = gemm.operand(dz)
            for s in range(k):
                dz_s = dzi.data_ptr() + e * s * rows * w
                if dgraph is not None:                                           # dG_s += x^T dz_s
                    gemm(v, w, rows, plan.x, v, dz_s, w, dgraph.data_ptr() + _FLOAT * s * v * w, w,
                         trans_a=True, beta=1.0)
                if dx is not None:                                               # dx += dz_s G_s^T
                    gemm(rows, v, w, dz_s, w, plan.graph(s), w, dx.data_ptr() + _FLOAT * i * rows * v, v,
                         trans_b=True, beta=float(s > 0))
        if dsums is not None:  # every G_s[v, w] adds to column sum w of every frame
            dgraph = dgraph + dsums.reshape([k, t, w]).sum(axis=1, keepdim=True)
        dweight = dmix[:, :k * cin].reshape([cout, k, cin]).transpose([1, 0, 2]).reshape([k * cout, cin, 1, 1])
        if not ctx.has_bias:
            return dx, dgraph, dweight
        return dx, dgraph, dweight, dmix[:, k * cin:].t().reshape([k * cout])


def _mixed_joints_buffer(graph, cin, t, with_bias):
    """(K*Cin [+ K], T*W) fp32 for the joint-mixed input; with a bias, its last K rows hold colsum(G_k) per
    frame."""
    k, w = graph.shape[0], graph.shape[2]
    z = paddle.empty([k * cin + (k if with_bias else 0), t * w], dtype='float32')
    if with_bias:  # written in place: a concat would copy the whole (uninitialised) buffer
        _array(z)[k * cin:].reshape(k, t, w)[:] = graph.astype('float32').sum(axis=1, keepdim=True).numpy()
    return z


class _GraphPlan:
    """Pointers for sample i of GraphConv: its (Cin*T, V) input and the (V, W) subsets, operands of `gemm`."""

    def __init__(self, gemm, x, graph, i):
        self.gemm, self.e = gemm, gemm.size
        self.k, self.v, self.w = graph.shape
        self.rows = x.shape[1] * x.shape[2]
        self.x = x.data_ptr() + self.e * i * self.rows * self.v
        self._graph = graph.data_ptr()

    def graph(self, s):
        return self._graph + self.e * s * self.v * self.w

    def mix_joints(self, z):
        """z (K*Cin, T*W) = [x G_0; ...; x G_{K-1}], each block (Cin*T, W); returns z as an operand."""
        for s in range(self.k):
            self.gemm(self.rows, self.w, self.v, self.x, self.v, self.graph(s), self.w,
                      z.data_ptr() + _FLOAT * s * self.rows * self.w, self.w)
        return self.gemm.operand(z)
