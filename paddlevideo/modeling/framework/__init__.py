from .recognizer_gcn import RecognizerGCN  # noqa: F401
