"""The input contract an exported model carries beside it: `<name>.contract.json`.

What a caller must know to feed the network raw skeleton frames and read its output: window, channels, joints,
persons, layout, coordinate normalisation, frame rate, the config's own test pipeline, the class names and the
class that means 'no element'. It is read from the config through data_spec / class_names once, at export, and
never re-derived downstream. JSON rather than YAML: it is data written by a tool, not a config (a `.yml` beside
the model would pass for one that main.py could train from, and it is not one).
"""
import json
import os

from ..loader.builder import background_class, class_names, data_spec, num_classes
from ..loader.pipelines import Compose
from ..utils.errors import CheckpointError, ConfigError

SUFFIX = '.contract.json'
VERSION = 1
# what a config given next to an exported model must agree on (class names only where both have them)
COMPARED = ('input_shape', 'layout', 'coords', 'fps', 'pipeline', 'num_classes', 'background_class')


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


def model_contract(cfg):
    """The contract of the model `cfg` describes (the test pipeline is built once here, so a bad one fails now)."""
    spec, shape = data_spec(cfg), input_shape(cfg)
    pipeline = json.loads(json.dumps((cfg.get('PIPELINE') or {}).get('test')))   # plain dicts, JSON-safe
    return {'version': VERSION, 'model_name': cfg.get('model_name'), 'input_shape': shape, 'window': shape[2],
            'channels': spec['channels'], 'joints': spec['joints'], 'persons': shape[4], 'layout': spec['layout'],
            'coords': spec['coords'], 'fps': spec['fps'],
            'sample_channels': Compose(pipeline, spec['layout'], shape[2]).in_channels(spec['channels']),
            'num_classes': num_classes(cfg), 'class_names': class_names(cfg), 'pipeline': pipeline,
            'background_class': background_class(cfg)}


def contract_path(model_file):
    """<name>.contract.json beside <name>.json, .pdmodel or .onnx."""
    return os.path.splitext(model_file)[0] + SUFFIX


def read_contract(model_file):
    """The contract beside `model_file`, or None for a model exported before contracts existed."""
    path = contract_path(model_file)
    if not os.path.isfile(path):
        return None
    try:
        with open(path, encoding='utf-8') as f:
            contract = json.load(f)
    except (OSError, ValueError) as e:
        raise CheckpointError(f'{path}: not a readable contract file ({type(e).__name__}: {e})') from None
    if isinstance(contract, dict):
        contract.setdefault('background_class', None)      # contracts written before models could have one
    missing = [k for k in (*COMPARED, 'window', 'class_names', 'version') if k not in (contract or {})]
    if not isinstance(contract, dict) or missing:
        raise CheckpointError(f'{path}: not a model contract (missing {", ".join(missing) or "a JSON object"})')
    if contract['version'] != VERSION:
        raise CheckpointError(f'{path}: contract version {contract["version"]}, this code reads version {VERSION}')
    return contract


def check_agreement(exported, given, contract_file, config_file):
    """ConfigError naming every difference between an exported contract and the one a config gives."""
    keys = list(COMPARED) + (['class_names'] if exported['class_names'] and given['class_names'] else [])
    diffs = [f'{k} {given[k]!r} against {exported[k]!r}' for k in keys if given[k] != exported[k]]
    if diffs:
        raise ConfigError(f'{config_file} disagrees with {contract_file}: {"; ".join(diffs)} (config against '
                          f'exported model); leave out --config to use the exported contract')
