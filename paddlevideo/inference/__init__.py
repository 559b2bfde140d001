"""Deployment and the video path: export (with the model's input contract), a predictor over in-memory batches,
a recognizer over raw skeleton frames, pose, video I/O, sliding windows -> timeline, drawing.

The names below are imported when first used (PEP 562), so a tool that only converts pose data (OpenPose JSON,
a video's skeletons) does not pay Paddle's import.
"""
import importlib

_HOME = {'input_shape': 'contract', 'model_contract': 'contract', 'read_contract': 'contract',
         'export_model': 'export', 'Predictor': 'predictor', 'Recognizer': 'recognizer',
         'FusedRecognizer': 'recognizer'}
__all__ = sorted(_HOME)


def __getattr__(name):
    if name not in _HOME:
        raise AttributeError(f'module {__name__!r} has no attribute {name!r}')
    return getattr(importlib.import_module(f'.{_HOME[name]}', __name__), name)
