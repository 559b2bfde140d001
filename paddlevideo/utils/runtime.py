"""CPU runtime settings that must be in the environment before paddle is imported.

Paddle's CPU wheel bundles Intel MKL, which picks a slow generic GEMM path on non-Intel CPUs: on the AMD EPYC
this project is measured on, a 1024x1152x4375 matmul runs at 25 GFLOP/s on one thread, 50 on two, and 185 on
two with ``MKL_DEBUG_CPU_TYPE=5`` (which selects the AVX2 code path the CPU supports). Paddle also runs its
math on one OpenMP thread unless ``OMP_NUM_THREADS`` says otherwise. Both are defaults only: a value the user
set wins; under ``paddle.distributed.launch`` the cores are shared among the processes of this machine.
``PADDLEVIDEO_NO_CPU_TUNING=1`` leaves the environment untouched.

Paddle's CPU allocator is plain ``posix_memalign``, so glibc decides whether a freed activation's pages go back
to the system, to be faulted in fresh and zeroed at the next step; training sets it (set_malloc_policy).
"""
import contextlib
import ctypes
import importlib.abc
import importlib.util
import io
import os
import sys
import warnings

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX = -1, -3, -4  # glibc <malloc.h>
_MMAP_MAX_DEFAULT, _TRIM_THRESHOLD_DEFAULT = 65536, 128 * 1024

USER_THREADS = os.environ.get('OMP_NUM_THREADS')  # as the user started us, before the default below


def _cpuinfo(field):
    """The first value of `field` in /proc/cpuinfo ('' where there is none)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith(field) and line[len(field):].lstrip().startswith(':'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return ''


def cpu_is_amd():
    """Whether the CPU is AMD's (MKL takes a slow path there, oneDNN does not)."""
    return _cpuinfo('vendor_id') == 'AuthenticAMD'


def cpu_flags():
    """The CPU's feature flags (/proc/cpuinfo)."""
    return set(_cpuinfo('flags').split())


def cpu_has_bf16():
    """Whether the CPU has bf16 dot products (AVX512_BF16 or AMX), which oneDNN's bf16 kernels need to be fast."""
    return bool({'avx512_bf16', 'amx_bf16'} & cpu_flags())


def available_cores():
    """Cores this process may run on (respects taskset / cgroup affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def paddle_library(name):
    """ctypes handle of a library Paddle's CPU wheel bundles and calls itself (paddle/libs/<name>: the same code and
    threads), or None where there is none. Imports paddle, so call it after configure_cpu_environment."""
    import paddle

    try:
        return ctypes.CDLL(os.path.join(os.path.dirname(paddle.__file__), 'libs', name))
    except OSError:
        return None


def paddle_mkl():
    """The MKL of Paddle's CPU wheel (libmklml_intel.so), or None."""
    return paddle_library('libmklml_intel.so')


# What importing Paddle 3.3.1 prints that says nothing to our users: a note that its C++ extension builder found
# no ccache, and a warning for any OMP_NUM_THREADS over 1 (which this module sets on purpose, above).
PADDLE_IMPORT_NOISE = ('WARNING: OMP_NUM_THREADS set to ', 'PLEASE USE OMP_NUM_THREADS WISELY.')


class _QuietPaddleImport(importlib.abc.MetaPathFinder):
    """Imports paddle with its stderr held back, then passes on every line but PADDLE_IMPORT_NOISE."""

    def find_spec(self, name, path=None, target=None):
        if name != 'paddle':
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            spec.loader = _HeldStderrLoader(spec.loader)
        return spec


class _HeldStderrLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        held = io.StringIO()
        try:
            with contextlib.redirect_stderr(held):
                self.loader.exec_module(module)
        finally:
            sys.stderr.writelines(line for line in held.getvalue().splitlines(keepends=True)
                                  if not line.startswith(PADDLE_IMPORT_NOISE))


def configure_cpu_environment(threads=None):
    """Set MKL / OpenMP defaults for this process; call before the first ``import paddle``."""
    if 'paddle' not in sys.modules and not any(isinstance(f, _QuietPaddleImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietPaddleImport())
        warnings.filterwarnings('ignore', message='No ccache found', category=UserWarning)
    if os.environ.get('PADDLEVIDEO_NO_CPU_TUNING') == '1':
        return
    amd = cpu_is_amd()
    if 'paddle' in sys.modules and 'MKL_DEBUG_CPU_TYPE' not in os.environ and amd:
        warnings.warn('paddle was imported before paddlevideo: its MKL runs the slow generic path on this AMD '
                      'CPU; import paddlevideo first (see paddlevideo/utils/runtime.py)', RuntimeWarning)
    if threads is not None:
        os.environ['OMP_NUM_THREADS'] = str(threads)
    local_processes = int(os.environ.get('PADDLE_LOCAL_SIZE', '1'))
    os.environ.setdefault('OMP_NUM_THREADS', str(max(1, available_cores() // local_processes)))
    if amd:
        os.environ.setdefault('MKL_DEBUG_CPU_TYPE', '5')
    os.environ.setdefault('GLOG_minloglevel', '2')


def set_malloc_policy(keep_freed):
    """Whether glibc keeps freed memory in the process for reuse (fast) or hands it back to the system (lean).

    keep_freed=True: no mmap'd allocations and no trimming, so a training step reuses the pages the last one
    freed. Training at batch 8 (FSD shape, 2 threads) then takes 6 page faults per step instead of 228 000, and
    3.0-3.3 s per step against 3.5-4.1; at batch 32, 13-14 s against 21-24. The heap fragments, so the peak RSS
    is higher: 1793 against 1451 MB at batch 8 (benchmarks/memory.py), 5627 against 4035 MB at batch 32.
    False: every allocation from 1 MB up is mmap'd and unmapped when freed: the smallest peak and the slowest
    steps. Glibc's own default lies between the two.
    Left alone when the user set a MALLOC_* variable, under PADDLEVIDEO_NO_CPU_TUNING=1 and without glibc;
    returns whether it applied.
    """
    if os.environ.get('PADDLEVIDEO_NO_CPU_TUNING') == '1' or any(k.startswith('MALLOC_') for k in os.environ):
        return False
    mallopt = getattr(ctypes.CDLL(None), 'mallopt', None)
    if mallopt is None:
        return False
    if keep_freed:
        settings = [(_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, 2**31 - 1)]
    else:
        settings = [(_M_MMAP_MAX, _MMAP_MAX_DEFAULT), (_M_MMAP_THRESHOLD, 1 << 20),
                    (_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_DEFAULT)]
    return all(mallopt(param, value) == 1 for param, value in settings)
