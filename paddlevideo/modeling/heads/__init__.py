from .stgcn_head import STGCNHead  # noqa: F401
