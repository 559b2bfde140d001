"""Export a trained recognizer for deployment: a Paddle inference model (paddle.jit.save), optionally ONNX, and
the model's input contract beside them (<name>.contract.json, see contract.py).

The input is fixed by the config as [None, C, window, V, M] (the batch stays dynamic). Every file is written
into a temporary folder next to the destination and renamed into place, so an existing export is never left
half-overwritten.
"""
import json
import os
import shutil
import tempfile

import paddle

from ..modeling import build_model
from ..utils.checkpoint import load_weights
from ..utils.errors import ConfigError
from ..utils.logger import native_stdout_to_stderr
from .contract import SUFFIX, contract_path, input_shape, model_contract

INPUT_NAME = 'data_batch'
ONNX_OPSET = 13


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
    """Build MODEL, load `weights`, write <output_dir>/<save_name>.json + .pdiparams + .contract.json (+ .onnx);
    returns the paths."""
    name = save_name or cfg.model_name
    if not name or os.path.basename(name) != name or name in ('.', '..'):
        raise ConfigError(f'save_name {name!r}: expected a file name without a folder (the folder is output_dir)')
    shape, contract = input_shape(cfg), model_contract(cfg)
    model = build_model(cfg.MODEL)
    load_weights(model, weights)
    model.eval()
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
        with open(contract_path(os.path.join(tmp, name + '.json')), 'w', encoding='utf-8') as f:
            json.dump(contract, f, indent=1)
        # parameters and contract first, so a reader that finds the new program also finds what goes with it
        files = sorted(os.listdir(tmp), key=lambda f: (not f.endswith('.pdiparams'), not f.endswith(SUFFIX)))
        for f in files:
            os.replace(os.path.join(tmp, f), os.path.join(output_dir, f))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return [os.path.join(output_dir, f) for f in files]
