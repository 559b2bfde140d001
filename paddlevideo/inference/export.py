"""Export a trained recognizer for deployment: a Paddle inference model (paddle.jit.save) and, optionally, ONNX.

The input is fixed by the config as [None, C, window, V, M] (the batch stays dynamic). Every file is written
into a temporary folder next to the destination and renamed into place, so an existing export is never left
half-overwritten.
"""
import os
import shutil
import tempfile

import paddle

from ..loader.builder import data_spec
from ..modeling import build_model
from ..utils.checkpoint import load_weights
from ..utils.errors import ConfigError
from ..utils.logger import native_stdout_to_stderr

INPUT_NAME = 'data_batch'
ONNX_OPSET = 13


def input_shape(cfg):
    """[None, C, window, V, M] from the config; INFERENCE.num_channels / vertex_nums must agree with MODEL."""
    spec = data_spec(cfg)
    inference = cfg.get('INFERENCE') or {}
    for key, name in (('num_channels', 'channels'), ('vertex_nums', 'joints')):
        if inference.get(key) is not None and int(inference[key]) != spec[name]:
            raise ConfigError(f'INFERENCE.{key} is {inference[key]} but the model takes {spec[name]} {name} '
                              f'(MODEL.backbone in_channels / layout)')
    if not spec['window']:
        raise ConfigError('no window size: set INFERENCE.window_size or PIPELINE.test.sample.window_size')
    return [None, spec['channels'], int(spec['window']), spec['joints'], int(spec['persons'] or 1)]


def to_onnx(model_file, params_file):
    """Convert a Paddle inference model to ONNX bytes with paddle2onnx.

    save_file=None returns the bytes unoptimised: paddle2onnx's Polygraphy pass (its default) would pip-install
    packages at run time, and we write the file ourselves, atomically.
    """
    import paddle2onnx

    try:
        with native_stdout_to_stderr():
            return paddle2onnx.export(model_file, params_file, save_file=None, opset_version=ONNX_OPSET,
                                      enable_onnx_checker=True, optimize_tool='None')
    except UnboundLocalError:  # paddle2onnx logs the conversion error, then fails on its missing result
        raise RuntimeError(f'paddle2onnx could not convert {model_file} (see its log above)') from None


def export_model(cfg, weights, output_dir, save_name=None, onnx=False):
    """Build MODEL, load `weights`, write <output_dir>/<save_name>.json + .pdiparams (+ .onnx); returns the paths."""
    shape = input_shape(cfg)
    model = build_model(cfg.MODEL)
    load_weights(model, weights)
    model.eval()
    name = save_name or cfg.model_name
    os.makedirs(output_dir, exist_ok=True)
    tmp = tempfile.mkdtemp(dir=output_dir, prefix=f'.tmp_{name}_')
    try:
        static = paddle.jit.to_static(model, input_spec=[paddle.static.InputSpec(shape, 'float32', INPUT_NAME)],
                                      full_graph=True)
        paddle.jit.save(static, os.path.join(tmp, name))
        if onnx:
            data = to_onnx(os.path.join(tmp, name + '.json'), os.path.join(tmp, name + '.pdiparams'))
            with open(os.path.join(tmp, name + '.onnx'), 'wb') as f:
                f.write(data)
        # parameters first, so a reader that finds the new program also finds its parameters
        files = sorted(os.listdir(tmp), key=lambda f: not f.endswith('.pdiparams'))
        for f in files:
            os.replace(os.path.join(tmp, f), os.path.join(output_dir, f))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [os.path.join(output_dir, f) for f in files]
