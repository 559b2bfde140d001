from .stgcn import STGCN  # noqa: F401
