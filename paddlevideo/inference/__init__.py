"""Deployment: export to a Paddle inference model / ONNX, and a predictor over in-memory batches."""
from .export import export_model, input_shape
from .predictor import Predictor
