"""YAML config in PaddleVideo's vocabulary, with `-o KEY=VALUE` overrides (dotted keys, list indices)."""
import os

import yaml

from .errors import ConfigError

TOP_LEVEL = {'MODEL', 'DATASET', 'PIPELINE', 'OPTIMIZER', 'METRIC', 'INFERENCE', 'MIX', 'model_name',
             'log_interval', 'epochs', 'output_dir', 'log_level', 'save_interval', 'val_interval', 'seed',
             'resume_epoch', 'PRECISEBN', 'GRADIENT_ACCUMULATION', 'CROSSVAL'}
DATASET_KEYS = {'batch_size', 'num_workers', 'test_batch_size', 'test_num_workers', 'valid_batch_size',
                'train', 'valid', 'test', 'valid_fraction'}
SPLIT_KEYS = {'format', 'file_path', 'label_path', 'test_mode', 'data_prefix', 'num_classes'}
CROSSVAL_KEYS = {'groups', 'folds', 'test'}  # tasks/crossval.py: groups file, fold count, {view: split section}


class AttrDict(dict):
    """A dict whose keys also read as attributes (cfg.DATASET.batch_size)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value


def _to_attr(obj):
    if isinstance(obj, dict):
        return AttrDict({k: _to_attr(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return [_to_attr(v) for v in obj]
    return obj


def _check_keys(where, got, known):
    unknown = sorted(set(got) - known)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; known: {sorted(known)}")


def validate(cfg, path):
    _check_keys(path, cfg, TOP_LEVEL)
    for key in ('MODEL',):
        if key not in cfg:
            raise ConfigError(f"{path}: missing section '{key}'")
    dataset = cfg.get('DATASET') or {}
    _check_keys(f'{path}: DATASET', dataset, DATASET_KEYS)
    for split in ('train', 'valid', 'test'):
        if dataset.get(split) is not None:
            _check_keys(f'{path}: DATASET.{split}', dataset[split], SPLIT_KEYS)
    for split, pipe in (cfg.get('PIPELINE') or {}).items():
        if split not in ('train', 'valid', 'test'):
            raise ConfigError(f"{path}: PIPELINE.{split} is not a split; known: ['test', 'train', 'valid']")
        _check_keys(f'{path}: PIPELINE.{split}', pipe or {}, {'sample', 'transform', 'decode'})
    crossval = cfg.get('CROSSVAL') or {}
    _check_keys(f'{path}: CROSSVAL', crossval, CROSSVAL_KEYS)
    for view, section in (crossval.get('test') or {}).items():
        _check_keys(f'{path}: CROSSVAL.test.{view}', section or {}, SPLIT_KEYS)


def parse_override(text):
    """'A.b.0.c=value' -> (['A', 'b', '0', 'c'], yaml-parsed value)."""
    if '=' not in text:
        raise ConfigError(f"override '{text}' is not KEY=VALUE")
    key, value = text.split('=', 1)
    try:
        return key.strip().split('.'), yaml.safe_load(value)
    except yaml.YAMLError:
        return key.strip().split('.'), value


def apply_override(cfg, text):
    keys, value = parse_override(text)
    node = cfg
    for i, k in enumerate(keys):
        last = i == len(keys) - 1
        if isinstance(node, list):
            if not k.isdigit() or int(k) >= len(node):
                raise ConfigError(f"override '{text}': '{k}' is not an index into a list of {len(node)}")
            k = int(k)
        elif not isinstance(node, dict):
            raise ConfigError(f"override '{text}': '{'.'.join(keys[:i])}' is not a section")
        if last:
            node[k] = _to_attr(value)
        else:
            if isinstance(node, dict) and node.get(k) is None:
                node[k] = AttrDict()
            node = node[k]


def get_config(path, overrides=()):
    """Read a YAML config, apply overrides, check section keys; returns an AttrDict."""
    if not os.path.isfile(path):
        raise ConfigError(f'config file not found: {path}')
    with open(path) as f:
        try:
            cfg = yaml.safe_load(f)
        except yaml.YAMLError as e:
            raise ConfigError(f'{path}: not valid YAML ({str(e).splitlines()[0]})') from None
    if not isinstance(cfg, dict):
        raise ConfigError(f'{path}: expected a mapping at the top level, found {type(cfg).__name__}')
    cfg = _to_attr(cfg)
    for text in overrides or ():
        apply_override(cfg, text)
    validate(cfg, path)
    cfg.setdefault('model_name', 'STGCN')
    cfg.setdefault('output_dir', os.path.join('output', cfg['model_name']))
    return cfg
