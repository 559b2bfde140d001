"""YAML config in PaddleVideo's vocabulary, with `-o KEY=VALUE` overrides (dotted keys, list indices)."""
import os

import numpy as np
import yaml

from .errors import ConfigError

TOP_LEVEL = {'MODEL', 'DATASET', 'PIPELINE', 'OPTIMIZER', 'METRIC', 'INFERENCE', 'MIX', 'model_name',
             'log_interval', 'epochs', 'output_dir', 'log_level', 'save_interval', 'val_interval', 'seed',
             'resume_epoch', 'PRECISEBN', 'GRADIENT_ACCUMULATION', 'CROSSVAL'}
DATASET_KEYS = {'batch_size', 'num_workers', 'test_batch_size', 'test_num_workers', 'valid_batch_size',
                'train', 'valid', 'test', 'valid_fraction'}
SPLIT_KEYS = {'format', 'file_path', 'label_path', 'test_mode', 'data_prefix', 'num_classes', 'background'}
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


# Numbers a config holds, as (kind, lowest value), checked when the config is read.
NUMBERS = {('epochs',): (int, 1), ('log_interval',): (int, 1), ('save_interval',): (int, 1),
           ('val_interval',): (int, 1), ('seed',): (int, 0), ('resume_epoch',): (int, 0),
           ('DATASET', 'batch_size'): (int, 1), ('DATASET', 'test_batch_size'): (int, 1),
           ('DATASET', 'valid_batch_size'): (int, 1), ('DATASET', 'num_workers'): (int, 0),
           ('DATASET', 'test_num_workers'): (int, 0), ('MODEL', 'head', 'num_classes'): (int, 1),
           ('MODEL', 'backbone', 'in_channels'): (int, 1), ('INFERENCE', 'window_size'): (int, 1),
           ('INFERENCE', 'num_channels'): (int, 1), ('INFERENCE', 'vertex_nums'): (int, 1),
           ('INFERENCE', 'person_nums'): (int, 1), ('INFERENCE', 'background_class'): (int, 0)}
SECTIONS = ('MODEL', 'DATASET', 'PIPELINE', 'OPTIMIZER', 'METRIC', 'INFERENCE', 'MIX', 'MODEL.backbone',
            'MODEL.head', 'DATASET.train', 'DATASET.valid', 'DATASET.test', 'PIPELINE.train', 'PIPELINE.valid',
            'PIPELINE.test')
LOG_LEVELS = ('DEBUG', 'INFO', 'WARNING', 'ERROR')
# PaddleVideo keys this project has no counterpart for: refused with the reason, not silently ignored.
REFUSED = {'PRECISEBN': 'precise BatchNorm statistics are not implemented (BatchNorm keeps running statistics); '
                        'remove PRECISEBN',
           'GRADIENT_ACCUMULATION': 'gradient accumulation is not implemented; set DATASET.batch_size to the global '
                                    'batch (--nprocs splits it over processes)'}


def _lookup(cfg, keys):
    node = cfg
    for k in keys:
        if not isinstance(node, dict) or node.get(k) is None:
            return None
        node = node[k]
    return node


def _check_values(cfg, path):
    """Sections are mappings, numbers are numbers in range, and no key is accepted that does nothing."""
    for name in SECTIONS:
        node = _lookup(cfg, name.split('.'))
        if node is not None and not isinstance(node, dict):
            raise ConfigError(f'{path}: {name} must be a section (a mapping), got {node!r}')
    for keys, (kind, low) in NUMBERS.items():
        value = _lookup(cfg, keys)
        if value is not None:
            number(f"{path}: {'.'.join(keys)}", value, kind, low)
    fraction = _lookup(cfg, ('DATASET', 'valid_fraction'))
    if fraction is not None:
        number(f'{path}: DATASET.valid_fraction', fraction, float, 0, 1, low_open=True)
    for key, why in REFUSED.items():
        if cfg.get(key):
            raise ConfigError(f'{path}: {key}: {why}')
    if cfg.get('resume_epoch'):
        raise ConfigError(f'{path}: resume_epoch: {cfg.resume_epoch}: use --resume, which continues from the last '
                          f'complete epoch in output_dir')
    if cfg.get('log_level') is not None and str(cfg.log_level).upper() not in LOG_LEVELS:
        raise ConfigError(f"{path}: log_level: expected one of {', '.join(LOG_LEVELS)}, got {cfg.log_level!r}")


def validate(cfg, path):
    _check_keys(path, cfg, TOP_LEVEL)
    for key in ('MODEL',):
        if key not in cfg:
            raise ConfigError(f"{path}: missing section '{key}'")
    _check_values(cfg, path)
    _check_keys(f'{path}: METRIC', cfg.get('METRIC') or {}, {'name', 'out_file', 'top_k'})
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


def number(where, value, kind=float, low=None, high=None, low_open=False):
    """`value` as `kind` (int or float) within [low, high] (low itself excluded when low_open); else a ConfigError
    naming `where` and what was found (a string, a bool, a fraction where an integer is meant, out of range)."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)
    ok = ok and (kind is float or float(value).is_integer())
    if ok:
        ok = (low is None or value > low or (value == low and not low_open)) and (high is None or value <= high)
    if not ok:
        bounds = (f' {">" if low_open else ">="} {low}' if low is not None else '') + \
            (f'{" and" if low is not None else ""} <= {high}' if high is not None else '')
        raise ConfigError(f'{where}: expected {"an integer" if kind is int else "a number"}{bounds}, got {value!r}')
    return kind(value)


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
    if os.path.isdir(path):
        raise ConfigError(f'{path} is a folder; expected a YAML config file')
    if not os.path.isfile(path):
        raise ConfigError(f'config file not found: {path}')
    with open(path, encoding='utf-8') as f:
        try:
            cfg = yaml.safe_load(f)
        except (yaml.YAMLError, UnicodeDecodeError) as e:
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
