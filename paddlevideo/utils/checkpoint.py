"""Atomic checkpoint writes and checked loads (a restricted unpickler: checkpoints never run code)."""
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


# What paddle.save writes for a state dict (model or optimizer): numpy arrays, their dtypes and scalars, plain
# containers. Nothing else is ever built from a checkpoint: a pickle can call any importable function.
SAFE_GLOBALS = frozenset({
    ('numpy._core.multiarray', '_reconstruct'), ('numpy.core.multiarray', '_reconstruct'), ('numpy', 'ndarray'),
    ('numpy', 'dtype'), ('numpy._core.multiarray', 'scalar'), ('numpy.core.multiarray', 'scalar'),
    ('builtins', 'tuple'), ('builtins', 'list'), ('builtins', 'dict'), ('builtins', 'set'),
    ('builtins', 'frozenset'), ('collections', 'OrderedDict')})


class _StateUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) not in SAFE_GLOBALS:
            raise pickle.UnpicklingError(f'refused {module}.{name}')
        return super().find_class(module, name)


def safe_unpickle(path, data, what='a Paddle checkpoint', error=CheckpointError):
    """Unpickle `data` building only SAFE_GLOBALS (arrays and plain containers); an `error` names what else the
    file asked for, or why it is not a pickle of `what`."""
    try:
        return _StateUnpickler(io.BytesIO(data), encoding='latin1').load()
    except pickle.UnpicklingError as e:
        if str(e).startswith('refused '):
            raise error(f'{path}: not loaded: it asks to build {str(e)[len("refused "):]}, and {what} holds only '
                        f'arrays and plain containers (a pickle can run code)') from None
        raise error(f'{path}: cannot be read as {what} (UnpicklingError: {e})') from None
    except (EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError, MemoryError) as e:
        raise error(f'{path}: cannot be read as {what} ({type(e).__name__}: {e})') from None


def load_state(path):
    """A state dict from a .pdparams / .pdopt, built only from arrays and plain containers (safe_unpickle)."""
    if not os.path.isfile(path):
        raise CheckpointError(f'weights file not found: {path}')
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as e:
        raise CheckpointError(f'{path}: cannot be read ({e.strerror})') from None
    safe_unpickle(path, data)  # paddle.load below then builds only what this did
    try:
        state = paddle.load(io.BytesIO(data))
    except (pickle.UnpicklingError, EOFError, ValueError, RuntimeError, OSError) as e:
        raise CheckpointError(f'{path}: cannot be read as a Paddle checkpoint ({type(e).__name__}: {e})') from None
    if not isinstance(state, dict):
        raise CheckpointError(f'{path}: expected a state dict, found {type(state).__name__}')
    return state


def load_weights(model, path, notify=None):
    """Load a .pdparams into `model`, checking every key and shape first; returns the model.

    With `notify` (fine-tuning), a head whose class count differs is left as initialised and `notify` gets one
    line saying so; everything else must fit as always.
    """
    state = load_state(path)
    own = model.state_dict()
    head = [k for k in own if k.startswith('head.') and k in state
            and list(own[k].shape) != list(np.shape(state[k]))]
    if notify and head and all(list(own[k].shape)[1:] == list(np.shape(state[k]))[1:] for k in head):
        notify(f'fine-tuning: {path} has a head for {np.shape(state[head[0]])[0]} classes, the model '
               f'{own[head[0]].shape[0]}: the head starts from scratch')
        state = {**state, **{k: own[k] for k in head}}
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
    model.set_state_dict({k: _as_dtype_of(own[k], v, path, k) for k, v in state.items()})
    return model


def _as_dtype_of(param, value, path, key):
    """`value` in the dtype of `param`: weights saved in float16 or float64 load into a float32 model (a cast);
    anything but floating-point values for a floating-point parameter is refused."""
    array = np.asarray(value)
    want = np.dtype(str(param.dtype).replace('paddle.', ''))
    if array.dtype == want:
        return value
    if not (np.issubdtype(array.dtype, np.floating) and np.issubdtype(want, np.floating)):
        raise CheckpointError(f'{path}: {key} holds {array.dtype} values, the model {want}')
    return array.astype(want)
