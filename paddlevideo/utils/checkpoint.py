"""Atomic checkpoint writes and checked loads."""
import io
import os
import pickle

import numpy as np
import paddle

from .errors import CheckpointError
from .fileio import atomic_write


def atomic_save(obj, path):
    """paddle.save through a temporary file and a rename (see fileio.atomic_write)."""
    buf = io.BytesIO()
    paddle.save(obj, buf)
    atomic_write(path, lambda f: f.write(buf.getvalue()))


def load_state(path):
    if not os.path.isfile(path):
        raise CheckpointError(f'weights file not found: {path}')
    try:
        state = paddle.load(path)
    except (pickle.UnpicklingError, EOFError, ValueError, RuntimeError, OSError) as e:
        raise CheckpointError(f'{path}: cannot be read as a Paddle checkpoint ({type(e).__name__}: {e})') from None
    if not isinstance(state, dict):
        raise CheckpointError(f'{path}: expected a state dict, found {type(state).__name__}')
    return state


def load_weights(model, path):
    """Load a .pdparams into `model`, checking every key and shape first; returns the model."""
    state = load_state(path)
    own = model.state_dict()
    shapes = []
    for key in own:
        if key in state and list(own[key].shape) != list(np.shape(state[key])):
            hint = ' (class count differs from num_classes?)' if key.startswith('head.') else ''
            shapes.append(f'{key}: model expects shape {list(own[key].shape)}, file has '
                          f'{list(np.shape(state[key]))}{hint}')
    unexpected = [k for k in state if k not in own]
    missing = [k for k in own if k not in state]
    problems = shapes[:2]
    if unexpected:
        problems.append(f'{len(unexpected)} unexpected key(s), e.g. {unexpected[0]}')
    if missing:
        problems.append(f'{len(missing)} missing key(s), e.g. {missing[0]}')
    if problems:
        if any('edge_importance' in k for k in unexpected + missing):
            problems.append('was it trained with another MODEL.backbone.graph (spatial / learnable)?')
        raise CheckpointError(f'{path} does not fit the model: ' + '; '.join(problems))
    model.set_state_dict(state)
    return model
