"""Run an exported recognizer on in-memory batches (N, C, W, V, M) -> logits (N, num_classes).

Backends: Paddle Inference (CPU with or without oneDNN, fp32 or bf16; GPU, optionally TensorRT with a dynamic
batch) and ONNX Runtime. A GPU, TensorRT or bf16 CPU that is asked for but missing is reported in one line and
the predictor runs on the CPU in fp32 instead. The default precision is fp32, the numbers `main.py --test` gives;
'auto' asks for the fastest CPU engine measured: oneDNN bf16 on a CPU with bf16 instructions, else ONNX Runtime
fp32 (default_cpu_engine).
"""
import ctypes
import os
import sys
import tempfile
import threading

import numpy as np

from ..utils.errors import CheckpointError, ConfigError, DataError
from ..utils.fileio import check_input_file
from ..utils.runtime import available_cores, cpu_has_bf16, paddle_mkl

BACKENDS = ('paddle', 'onnxruntime')
MODEL_SUFFIXES = ('.json', '.pdmodel', '.onnx')  # Paddle's program (legacy: .pdmodel), ONNX
PRECISIONS = ('auto', 'fp32', 'fp16', 'int8', 'bf16')
# oneDNN agrees with dygraph (tests) but is slower for this model on the CPUs measured (benchmarks/infer_speed.py).
DEFAULT_ENABLE_MKLDNN = False
# What Paddle Inference 3.3.1 prints that says nothing to our users: the name of the check that picks oneDNN's
# mean kernel, a bare line on the process's stdout (not glog: GLOG_minloglevel and disable_glog_info do not
# reach it) for every mean in the program when a oneDNN predictor first runs a batch shape.
PADDLE_INFERENCE_NOISE = frozenset({'ReduceMeanCheckIfOneDNNSupport'})
_LIBC = ctypes.CDLL(None)


class _NativeStdout:
    """Inside `with`, what native code writes to fd 1 is held in a temporary file; on leaving, every line but
    PADDLE_INFERENCE_NOISE goes on to stderr. A tool's stdout then carries only its own output (the benchmarks'
    JSON line), its stderr only lines that say something. fd 1 is one per process, so the blocks of all
    predictors take turns."""

    _turn = threading.Lock()

    def __init__(self):
        self._held = tempfile.TemporaryFile()

    def __enter__(self):
        self._turn.acquire()
        sys.stdout.flush()
        self._saved = os.dup(1)
        os.dup2(self._held.fileno(), 1)

    def __exit__(self, *exc):
        try:
            _LIBC.fflush(None)  # what a library printed through C's buffered stdio
            os.dup2(self._saved, 1)
            os.close(self._saved)
            held = self._held.fileno()
            size = os.fstat(held).st_size
            if size:
                text = os.pread(held, size, 0).decode(errors='replace')
                os.ftruncate(held, 0)
                os.lseek(held, 0, os.SEEK_SET)
                sys.stderr.writelines(line for line in text.splitlines(keepends=True)
                                      if line.strip() not in PADDLE_INFERENCE_NOISE)
                sys.stderr.flush()
        finally:
            self._turn.release()


def resolve_model_file(path):
    """An existing model file; <prefix>.json and the legacy <prefix>.pdmodel stand in for each other."""
    stem, ext = os.path.splitext(path)
    if ext not in MODEL_SUFFIXES:
        hint = ' (training weights: tools/export_model.py exports a model from them)' if ext == '.pdparams' else ''
        raise CheckpointError(f'model file {path}: expected an exported model ({", ".join(MODEL_SUFFIXES)}), found '
                              f'{ext or "no suffix"}{hint}')
    if os.path.isdir(path):
        raise CheckpointError(f'model file {path} is a folder; expected a file')
    if os.path.isfile(path):
        return path
    if ext in ('.json', '.pdmodel'):
        other = stem + ('.pdmodel' if ext == '.json' else '.json')
        if os.path.isfile(other):
            return other
    raise CheckpointError(f'model file not found: {path}')


def engine_is_ours(backend, model_file, use_gpu, use_tensorrt):
    """Whether the engine is ours to pick: no backend named, a Paddle model (not .onnx), the CPU."""
    return backend is None and not model_file.endswith('.onnx') and not (use_gpu or use_tensorrt)


def default_cpu_engine(backend, model_file, use_gpu, use_tensorrt, cpu_bf16):
    """What precision 'auto' (an opt-in) means: 'bf16' where the engine is ours to pick (no backend named, a Paddle
    model, the CPU) and the CPU has bf16 instructions, 'fp32' otherwise. bf16 (Paddle Inference, oneDNN) runs batch 1
    1.3-2x as fast as ONNX Runtime fp32 on an AVX512_BF16 CPU and kept every top-1 of trained Penn Action
    checkpoints on 1068 test clips (README); a named backend, a .onnx file or a GPU keeps fp32 arithmetic."""
    return 'bf16' if engine_is_ours(backend, model_file, use_gpu, use_tensorrt) and cpu_bf16 else 'fp32'


def plan_device(use_gpu, use_tensorrt, precision, gpu_available, tensorrt_available, missing_gpu,
                cpu_bf16=False):
    """What runs where: (use_gpu, use_tensorrt, precision, one-line notice or None).

    fp16 / int8 need TensorRT (fp16 also runs on a plain GPU), bf16 a CPU with bf16 instructions (`cpu_bf16`);
    whatever is missing falls back to the CPU, fp32.
    """
    want = ('GPU + TensorRT' if use_tensorrt else 'GPU') if use_gpu or use_tensorrt else 'CPU'
    gpu = (use_gpu or use_tensorrt) and gpu_available
    trt = use_tensorrt and gpu and tensorrt_available
    bf16 = precision == 'bf16' and cpu_bf16 and not (use_gpu or use_tensorrt)
    run_precision = precision if trt or (gpu and precision == 'fp16') or bf16 else 'fp32'
    if (gpu, trt, run_precision) == (use_gpu or use_tensorrt, use_tensorrt, precision):
        return gpu, trt, run_precision, None
    if (use_gpu or use_tensorrt) and not gpu:
        why = missing_gpu
    elif use_tensorrt and not trt:
        why = 'TensorRT is not available'
    elif precision == 'bf16' and want == 'CPU':
        why = 'this CPU has no bf16 instructions (avx512_bf16 or amx_bf16)'
    else:
        why = f'{precision} needs TensorRT or a GPU'
    where = ('GPU + TensorRT' if trt else 'GPU') if gpu else 'CPU'
    return gpu, trt, run_precision, (f'warning: asked for {want} {precision} but {why}; '
                                     f'running on {where} {run_precision} instead')


class Predictor:
    """An exported model, ready to run: `predict(batch)` with batch (N, C, W, V, M) float32 -> logits (N, K).

    backend None picks ONNX Runtime for a .onnx file, and on the CPU also for a Paddle model with a .onnx twin
    beside it (ONNX Runtime is the fastest fp32 CPU backend measured); Paddle Inference otherwise.
    precision 'bf16' runs Paddle Inference with oneDNN's bf16 kernels on the CPU: on an AVX512_BF16 CPU 1.3-2x
    as fast as ONNX Runtime fp32, with logits moved by bf16 rounding (README, benchmarks/bf16_agreement.py).
    precision 'fp32' (the default) gives the logits of dygraph (`main.py --test`) to 1e-4; 'auto' is bf16 where
    default_cpu_engine says so (with one notice line), fp32 otherwise.
    `batch_size` is the largest batch sent to the engine at once (TensorRT's maximum shape); bigger batches are
    run in chunks.
    `fixed_batch` gives ONNX Runtime on the CPU one session per batch size (the last two kept), each with the
    batch dimension fixed: ORT then fuses each residual Add and ReLU into its Conv (benchmarks/infer_speed.py).
    """

    def __init__(self, model_file, params_file=None, backend=None, use_gpu=False, use_tensorrt=False,
                 enable_mkldnn=DEFAULT_ENABLE_MKLDNN, precision='fp32', cpu_threads=None, batch_size=32,
                 fixed_batch=True, notify=None):
        self.notify = notify or (lambda line: print(line, file=sys.stderr))
        if precision not in PRECISIONS:
            raise ConfigError(f"unknown precision '{precision}'; known: {', '.join(PRECISIONS)}")
        if precision == 'bf16' and (use_gpu or use_tensorrt):
            raise ConfigError('precision bf16 runs on the CPU (oneDNN); on a GPU, use fp16 or, with TensorRT, int8')
        self.model_file = resolve_model_file(model_file)
        is_onnx = self.model_file.endswith('.onnx')
        if precision == 'auto':
            precision = default_cpu_engine(backend, self.model_file, use_gpu, use_tensorrt, cpu_has_bf16())
            if precision == 'bf16':
                self.notify('running Paddle Inference with oneDNN bf16 on this CPU\'s bf16 instructions, the '
                            'fastest CPU engine measured (docs/benchmarks.md); bf16 rounding moves the logits '
                            'slightly, --precision fp32 (the default) for fp32 arithmetic')
        onnx_twin = os.path.splitext(self.model_file)[0] + '.onnx'
        if (engine_is_ours(backend, self.model_file, use_gpu, use_tensorrt) and precision != 'bf16'
                and os.path.isfile(onnx_twin)):
            self.model_file, is_onnx = onnx_twin, True
            self.notify(f'running ONNX Runtime on {onnx_twin}, the fastest fp32 CPU backend measured '
                        f'(docs/benchmarks.md); --backend paddle for Paddle Inference')
        self.backend = backend or ('onnxruntime' if is_onnx else 'paddle')
        if self.backend not in BACKENDS:
            raise ConfigError(f"unknown backend '{self.backend}'; known: {', '.join(BACKENDS)}")
        if is_onnx != (self.backend == 'onnxruntime'):
            raise ConfigError(f'backend {self.backend} cannot read {self.model_file}: ONNX Runtime takes a .onnx '
                              f'file, Paddle Inference a .json (or legacy .pdmodel) with its .pdiparams')
        if precision == 'bf16' and self.backend == 'onnxruntime':
            raise ConfigError(f'precision bf16 runs through Paddle Inference (oneDNN), which reads the .json model, '
                              f'not {self.model_file}')
        if batch_size < 1:
            raise ConfigError(f'batch_size must be at least 1, got {batch_size}')
        if cpu_threads is not None and cpu_threads < 1:
            raise ConfigError(f'cpu_threads must be at least 1, got {cpu_threads}')
        self.batch_size, self.threads = int(batch_size), int(cpu_threads or available_cores())
        if self.backend == 'paddle':
            self.params_file = params_file or os.path.splitext(self.model_file)[0] + '.pdiparams'
            check_input_file(self.params_file, 'params file')
            self.input_name, self.input_shape = _paddle_input(self.model_file)
            self._run = self._paddle_engine(use_gpu, use_tensorrt, enable_mkldnn, precision)
        else:
            self._run = self._onnx_engine(use_gpu, use_tensorrt, precision, fixed_batch)

    def check_shape(self, shape, where):
        """Raise DataError unless `shape` (N, C, W, V, M) fits the model's input [None, C, W, V, M]."""
        want = tuple(self.input_shape[1:])
        if len(shape) != 5 or tuple(shape[1:]) != want:
            raise DataError(f'{where}: the model {self.model_file} takes (N, C, W, V, M) = (N, '
                            f'{", ".join(map(str, want))}), got {tuple(shape)}')

    def predict(self, batch):
        """(N, C, W, V, M) array -> (N, num_classes) float32 logits."""
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        self.check_shape(batch.shape, 'input batch')
        return np.concatenate([self._run(batch[i:i + self.batch_size])
                               for i in range(0, len(batch), self.batch_size)])

    def _paddle_engine(self, use_gpu, use_tensorrt, enable_mkldnn, precision):
        import paddle
        from paddle import inference

        gpu_ok = paddle.is_compiled_with_cuda() and paddle.device.cuda.device_count() > 0
        trt_ok = gpu_ok and tuple(inference.get_trt_runtime_version()) != (0, 0, 0)
        missing = ('this Paddle build has no CUDA (paddle.is_compiled_with_cuda() is False)'
                   if not paddle.is_compiled_with_cuda() else 'no GPU is visible')
        enable_mkldnn = enable_mkldnn or precision == 'bf16'  # bf16 is oneDNN's; its fp32 fallback keeps oneDNN
        gpu, trt, precision, notice = plan_device(use_gpu, use_tensorrt, precision, gpu_ok, trt_ok, missing,
                                                  cpu_has_bf16())
        if notice:
            self.notify(notice)
        config = inference.Config(self.model_file, self.params_file)
        config.disable_glog_info()
        if gpu:
            mode = {'fp32': inference.PrecisionType.Float32, 'fp16': inference.PrecisionType.Half,
                    'int8': inference.PrecisionType.Int8}[precision]
            config.enable_use_gpu(500, 0, mode if not trt else inference.PrecisionType.Float32)
            if trt:
                config.enable_tensorrt_engine(workspace_size=1 << 30, max_batch_size=self.batch_size,
                                              min_subgraph_size=3, precision_mode=mode, use_static=False,
                                              use_calib_mode=precision == 'int8')
                one = [1, *self.input_shape[1:]]
                full = [self.batch_size, *self.input_shape[1:]]
                name = self.input_name
                config.set_trt_dynamic_shape_info({name: one}, {name: full}, {name: full})
            self.device = 'GPU + TensorRT' if trt else 'GPU'
        else:
            config.disable_gpu()
            config.set_cpu_math_library_num_threads(self.threads)
            if enable_mkldnn:
                config.enable_mkldnn()
                # Paddle 3.3.1's operator_reshape_onednn_fuse_pass folds the reshape of the input into the
                # spatial graph conv's concat with a ones channel and then rejects its own program
                # ("type tensor<-1x2x350x25xf32> ... must be equal to ... <-1x1x2x350x25xf32>")
                config.delete_pass('operator_reshape_onednn_fuse_pass')
                config.set_mkldnn_cache_capacity(10)  # one cached kernel set per batch shape seen
                if precision == 'bf16':
                    config.enable_mkldnn_bfloat16()
            else:
                config.disable_mkldnn()
            self.device = ('CPU, oneDNN bf16' if precision == 'bf16' else 'CPU, oneDNN') if enable_mkldnn else 'CPU'
        native_stdout = _NativeStdout()
        try:
            with native_stdout:
                predictor = inference.create_predictor(config)
        except (ValueError, RuntimeError, OSError) as e:  # Paddle's own error types for a foreign or corrupt file
            raise CheckpointError(f'{self.model_file} with {self.params_file}: not a loadable Paddle inference '
                                  f'model ({type(e).__name__}: {str(e).strip().splitlines()[0][:200]})') from None
        feed = predictor.get_input_handle(predictor.get_input_names()[0])
        fetch = predictor.get_output_handle(predictor.get_output_names()[0])
        mkl = paddle_mkl()

        def run(batch):
            feed.reshape(batch.shape)
            feed.copy_from_cpu(batch)
            threads = mkl.MKL_Get_Max_Threads() if mkl else None
            with native_stdout:  # oneDNN kernels print notes when first built
                predictor.run()
            if threads:  # Paddle 3.3.1's run leaves MKL and OpenMP at one thread for the whole process (dygraph too)
                paddle.base.core.set_num_threads(threads)
            return fetch.copy_to_cpu()
        return run

    def _onnx_engine(self, use_gpu, use_tensorrt, precision, fixed_batch):
        import onnxruntime as ort

        available = ort.get_available_providers()
        gpu, trt, precision, notice = plan_device(
            use_gpu, use_tensorrt, precision, 'CUDAExecutionProvider' in available,
            'TensorrtExecutionProvider' in available, 'this onnxruntime has no CUDAExecutionProvider')
        if notice:
            self.notify(notice)
        providers = ['CPUExecutionProvider']
        if gpu:
            providers.insert(0, 'CUDAExecutionProvider')
        if trt:
            providers.insert(0, ('TensorrtExecutionProvider', {'trt_fp16_enable': precision == 'fp16',
                                                               'trt_int8_enable': precision == 'int8'}))
        def session(batch_size=None):
            options = ort.SessionOptions()
            options.intra_op_num_threads, options.inter_op_num_threads = self.threads, 1
            # idle workers sleep instead of spinning: the video path runs decoding and pose beside the network,
            # and spinning workers took their cores (docs/video.md, Throughput)
            options.add_session_config_entry('session.intra_op.allow_spinning', '0')
            options.log_severity_level = 3  # paddle2onnx leaves unused initializers, each logged as a warning
            if batch_size:
                options.add_free_dimension_override_by_name(batch_dim, batch_size)
            try:
                return ort.InferenceSession(self.model_file, options, providers=providers)
            except Exception as e:  # onnxruntime raises its own exception types for a corrupt or foreign file
                raise CheckpointError(f'{self.model_file}: not a loadable ONNX model '
                                      f'({str(e).splitlines()[0]})') from None

        dynamic = session()
        spec = dynamic.get_inputs()[0]
        name, batch_dim = spec.name, spec.shape[0]
        self.input_shape = [d if isinstance(d, int) else None for d in spec.shape]
        self.device = ('GPU + TensorRT' if trt else 'GPU') if gpu else 'CPU'
        if gpu or not fixed_batch or not isinstance(batch_dim, str):
            return lambda batch: dynamic.run(None, {name: batch})[0]
        sessions = {}  # batch size -> session; the last two (a full chunk and a remainder)

        def run(batch):
            if len(batch) not in sessions:
                if len(sessions) == 2:
                    del sessions[next(iter(sessions))]
                sessions[len(batch)] = session(len(batch))
            return sessions[len(batch)].run(None, {name: batch})[0]
        return run


def _paddle_input(model_file):
    """(name, shape [None, C, W, V, M]) of the input recorded in a Paddle inference program (.json, or legacy
    .pdmodel)."""
    import paddle

    try:
        if model_file.endswith('.pdmodel'):
            with paddle.pir_utils.OldIrGuard(), open(model_file, 'rb') as f:
                block = paddle.static.Program.parse_from_string(f.read()).global_block()
                feed = next(op.output('Out')[0] for op in block.ops if op.type == 'feed')
                name, shape = feed, list(block.var(feed).shape)
        else:
            with paddle.pir_utils.IrGuard():
                program = paddle.static.Program()
                paddle.base.core.deserialize_pir_program(model_file, program)  # what load_inference_model calls
                attrs = next(op.attrs() for op in program.global_block().ops if op.name() == 'pd_op.data')
                name, shape = attrs['name'], attrs['shape']
    except (ValueError, RuntimeError, OSError, StopIteration) as e:
        raise CheckpointError(f'{model_file}: not a loadable Paddle inference model '
                              f'({type(e).__name__}: {str(e).strip()[:200]})') from None
    return name, [None if d < 0 else int(d) for d in shape]
