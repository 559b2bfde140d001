"""CPU runtime settings that must be in the environment before paddle is imported.

Paddle's CPU wheel bundles Intel MKL, which picks a slow generic GEMM path on non-Intel CPUs: on the AMD EPYC
this project is measured on, a 1024x1152x4375 matmul runs at 25 GFLOP/s on one thread, 50 on two, and 185 on
two with ``MKL_DEBUG_CPU_TYPE=5`` (which selects the AVX2 code path the CPU supports). Paddle also runs its
math on one OpenMP thread unless ``OMP_NUM_THREADS`` says otherwise. Both are defaults only: a value the user
set wins; under ``paddle.distributed.launch`` the cores are shared among the processes of this machine.
``PADDLEVIDEO_NO_CPU_TUNING=1`` leaves the environment untouched.
"""
import os
import sys
import warnings

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


def cpu_has_bf16():
    """Whether the CPU has bf16 dot products (AVX512_BF16 or AMX), which oneDNN's bf16 kernels need to be fast."""
    return bool({'avx512_bf16', 'amx_bf16'} & set(_cpuinfo('flags').split()))


def available_cores():
    """Cores this process may run on (respects taskset / cgroup affinity)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def configure_cpu_environment(threads=None):
    """Set MKL / OpenMP defaults for this process; call before the first ``import paddle``."""
    if os.environ.get('PADDLEVIDEO_NO_CPU_TUNING') == '1':
        return
    amd = _cpuinfo('vendor_id') == 'AuthenticAMD'
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
