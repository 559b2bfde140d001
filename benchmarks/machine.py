"""The machine a benchmark ran on, for its JSON line (no framework import)."""
import os
import platform

ISA = ('avx2', 'fma', 'avx512f', 'avx512_vnni', 'avx512_bf16', 'amx_bf16')  # what the kernels we time can use


def _cpuinfo():
    """The first processor's fields in /proc/cpuinfo ({} where there is none)."""
    fields = {}
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if not line.strip():
                    break
                key, _, value = line.partition(':')
                fields[key.strip()] = value.strip()
    except OSError:
        pass
    return fields


def machine():
    """{'cpu': model name, 'isa': the vector extensions of ISA it has, 'cores': cores this process may use,
    'cpu_count': all cores, 'ram_mb': physical RAM}. The workplace's VMs change CPU between days (AVX-512 with
    bf16 on some, AVX2 only on others), so figures are compared within one run."""
    info = _cpuinfo()
    flags = set(info.get('flags', '').split())
    return {'cpu': info.get('model name', platform.machine()), 'isa': [f for f in ISA if f in flags],
            'cores': len(os.sched_getaffinity(0)), 'cpu_count': os.cpu_count(),
            'ram_mb': os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') >> 20}
