"""ST-GCN skeleton action recognition on PaddlePaddle, in PaddleVideo's layout and YAML vocabulary."""
from .utils.runtime import configure_cpu_environment

configure_cpu_environment()  # must precede the first import of paddle (see utils/runtime.py)
