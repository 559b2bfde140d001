"""Whose output_dir is it: a training run claims its folder, so it never overwrites or resumes another run.

A run writes `run.json` (its config and seed) into output_dir when it starts. Training into a folder that
already holds a run is refused unless the user says `--resume` (and the folder's run.json matches this config
and seed) or `--overwrite` (the old run's files are removed first). Leftovers of a killed write (`.tmp_*`) are
removed when a run starts.
"""
import glob
import json
import os

from ..utils.errors import ConfigError
from ..utils.fileio import write_text

RUN_FILE = 'run.json'
# Keys a resumed run may change: where and how much it logs, and how many epochs it runs in all.
MAY_DIFFER = {'output_dir', 'log_interval', 'save_interval', 'log_level', 'epochs'}


def run_files(folder, model_name):
    """The files a training run writes into its folder."""
    names = [RUN_FILE, 'train.log', 'train_curves.png', f'{model_name}_best.pdparams']
    return [p for p in [os.path.join(folder, n) for n in names] if os.path.exists(p)] + \
        sorted(glob.glob(os.path.join(folder, f'{model_name}_epoch_*.pd*')))


def _differences(a, b, prefix=''):
    keys = sorted(set(a) | set(b))
    out = []
    for k in keys:
        if not prefix and k in MAY_DIFFER:
            continue
        va, vb = a.get(k), b.get(k)
        if isinstance(va, dict) and isinstance(vb, dict):
            out += _differences(va, vb, f'{prefix}{k}.')
        elif va != vb:
            out.append(f'{prefix}{k}: {vb!r} there, {va!r} now')
    return out


def claim(cfg, seed, resume=False, overwrite=False):
    """Make cfg.output_dir this run's (see the module docstring); returns whether there is a run to resume."""
    folder = cfg.output_dir
    here = run_files(folder, cfg.model_name)
    for tmp in glob.glob(os.path.join(folder, '.tmp_*')):
        if os.path.isfile(tmp):
            os.remove(tmp)
    identity = {'config': json.loads(json.dumps(cfg, default=str)), 'seed': seed}
    if here and overwrite:
        for path in here:
            os.remove(path)
    elif here and resume:
        path = os.path.join(folder, RUN_FILE)
        if not os.path.isfile(path):
            raise ConfigError(f'--resume: {folder} holds checkpoints without {RUN_FILE} (a run of an older version, '
                              f'or not ours): nothing proves they are this run\'s; --overwrite to start afresh')
        with open(path, encoding='utf-8') as f:
            theirs = json.load(f)
        differ = _differences(identity['config'], theirs.get('config', {}))
        if theirs.get('seed') != seed:
            differ.insert(0, f"seed: {theirs.get('seed')} there, {seed} now")
        if differ:
            raise ConfigError(f'--resume: {folder} holds another run ({"; ".join(differ[:3])}); resume with its '
                              f'config and seed, or train into another output_dir')
        return True
    elif here:
        raise ConfigError(f'{folder} already holds a training run ({len(here)} files, e.g. '
                          f'{os.path.basename(here[0])}): --resume to continue it, --overwrite to replace it, or '
                          f'-o output_dir=<another folder>')
    write_text(os.path.join(folder, RUN_FILE), json.dumps(identity, indent=1))
    return False
