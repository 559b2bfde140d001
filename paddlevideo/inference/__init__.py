"""Deployment and the video path: export (with the model's input contract), a predictor over in-memory batches,
a recognizer over raw skeleton frames, sliding windows -> timeline, drawing."""
from .contract import input_shape, model_contract, read_contract
from .export import export_model
from .predictor import Predictor
from .recognizer import Recognizer
