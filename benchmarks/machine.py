"""The machine a benchmark ran on, for its JSON line (no framework import)."""
import os
import platform


def machine():
    """{'cpu': model name, 'cores': cores this process may use, 'cpu_count': all cores, 'ram_mb': physical RAM}."""
    cpu = platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), cpu)
    except OSError:
        pass
    return {'cpu': cpu, 'cores': len(os.sched_getaffinity(0)), 'cpu_count': os.cpu_count(),
            'ram_mb': os.sysconf('SC_PHYS_PAGES') * os.sysconf('SC_PAGE_SIZE') >> 20}
