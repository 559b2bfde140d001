"""Optimizer and learning-rate schedule from the OPTIMIZER section (PaddleVideo's vocabulary)."""
import math

import paddle

from ..utils.config import number
from ..utils.errors import ConfigError

OPTIMIZERS = {'Momentum': paddle.optimizer.Momentum, 'SGD': paddle.optimizer.SGD, 'Adam': paddle.optimizer.Adam,
              'AdamW': paddle.optimizer.AdamW}


class CustomWarmupCosineDecay(paddle.optimizer.lr.LRScheduler):
    """Linear warm-up from warmup_start_lr to cosine_base_lr, then cosine decay to 0 at max_epoch (per step)."""

    def __init__(self, warmup_start_lr, warmup_epochs, cosine_base_lr, max_epoch, num_iters, last_epoch=-1):
        self.warmup_start_lr, self.cosine_base_lr = warmup_start_lr, cosine_base_lr
        self.warmup_steps, self.total_steps = warmup_epochs * num_iters, max_epoch * num_iters
        super().__init__(cosine_base_lr, last_epoch)

    def get_lr(self):
        step = self.last_epoch
        cosine = self.cosine_base_lr * (math.cos(math.pi * step / self.total_steps) + 1.0) * 0.5
        if step < self.warmup_steps:
            end = self.cosine_base_lr * (math.cos(math.pi * self.warmup_steps / self.total_steps) + 1.0) * 0.5
            return self.warmup_start_lr + (end - self.warmup_start_lr) * step / self.warmup_steps
        return cosine


def build_lr(cfg, steps_per_epoch):
    """Returns (scheduler or float, iter_step): iter_step schedulers step every iteration, others every epoch."""
    if not isinstance(cfg, dict):
        return float(cfg), False
    cfg = dict(cfg)
    name = cfg.pop('name', None)
    iter_step = bool(cfg.pop('iter_step', False))
    scale = steps_per_epoch if iter_step else 1
    try:
        if name == 'CosineAnnealingDecay':
            cfg['T_max'] = int(cfg['T_max']) * scale
            return paddle.optimizer.lr.CosineAnnealingDecay(**cfg), iter_step
        if name == 'CustomWarmupCosineDecay':
            return CustomWarmupCosineDecay(num_iters=steps_per_epoch, **cfg), True
        if name == 'PiecewiseDecay':
            cfg['boundaries'] = [int(b) * scale for b in cfg['boundaries']]
            return paddle.optimizer.lr.PiecewiseDecay(**cfg), iter_step
        if name == 'MultiStepDecay':
            cfg['milestones'] = [int(b) * scale for b in cfg['milestones']]
            return paddle.optimizer.lr.MultiStepDecay(**cfg), iter_step
    except (TypeError, KeyError) as e:
        raise ConfigError(f'OPTIMIZER.learning_rate ({name}): {e}') from None
    known = ['CosineAnnealingDecay', 'CustomWarmupCosineDecay', 'MultiStepDecay', 'PiecewiseDecay']
    raise ConfigError(f"unknown learning_rate name '{name}'; known: {', '.join(known)}")


def build_regularizer(cfg):
    if cfg is None or isinstance(cfg, (int, float)):
        return cfg
    kinds = {'L2': paddle.regularizer.L2Decay, 'L1': paddle.regularizer.L1Decay}
    if cfg.get('name') not in kinds:
        raise ConfigError(f"unknown weight_decay name '{cfg.get('name')}'; known: L1, L2")
    return kinds[cfg['name']](float(cfg['value']))


# The learning-rate values of each schedule (OPTIMIZER.learning_rate.name) that --auto-scale-lr scales.
LR_KEYS = {'CosineAnnealingDecay': ('learning_rate',), 'MultiStepDecay': ('learning_rate',),
           'CustomWarmupCosineDecay': ('warmup_start_lr', 'cosine_base_lr'), 'PiecewiseDecay': ('values',)}


def auto_scale_lr(cfg, total_batch):
    """mmaction2's --auto-scale-lr (the linear scaling rule): scale the OPTIMIZER learning rates in `cfg` by
    total_batch / OPTIMIZER.base_batch_size, total_batch being the batch of one step over all processes. Returns
    the line to log."""
    opt = cfg.get('OPTIMIZER') or {}
    base = opt.get('base_batch_size')
    if base is None:
        raise ConfigError('--auto-scale-lr needs OPTIMIZER.base_batch_size, the total batch the config\'s learning '
                          'rate was set for (e.g. -o OPTIMIZER.base_batch_size=16)')
    factor = total_batch / number('OPTIMIZER.base_batch_size', base, int, low=1)
    lr = opt.get('learning_rate', 0.01)
    if not isinstance(lr, dict):
        opt['learning_rate'] = float(lr) * factor
        scaled = f"learning_rate {opt['learning_rate']:.6g}"
    else:
        keys = LR_KEYS.get(lr.get('name'))
        if keys is None:
            raise ConfigError(f"--auto-scale-lr: unknown learning_rate name '{lr.get('name')}'; known: "
                              f"{', '.join(sorted(LR_KEYS))}")
        for key in keys:
            value = lr.get(key)
            if value is None:
                raise ConfigError(f'OPTIMIZER.learning_rate ({lr["name"]}): {key} is missing')
            lr[key] = [float(v) * factor for v in value] if isinstance(value, list) else float(value) * factor
        scaled = ', '.join(f'{key} ' + (' '.join(f'{v:.6g}' for v in lr[key]) if isinstance(lr[key], list)
                                        else f'{lr[key]:.6g}') for key in keys)
    cfg['OPTIMIZER'] = opt
    return (f'--auto-scale-lr: learning rate x {factor:g} (total batch {total_batch} / base_batch_size {base}): '
            f'{scaled}')


def build_optimizer(cfg, parameters, steps_per_epoch):
    """OPTIMIZER -> (optimizer, scheduler or None, iter_step)."""
    cfg = dict(cfg or {})
    cfg.pop('base_batch_size', None)  # for --auto-scale-lr (auto_scale_lr), not the optimizer's
    name = cfg.pop('name', 'Momentum')
    if name not in OPTIMIZERS:
        raise ConfigError(f"unknown optimizer '{name}'; known: {', '.join(OPTIMIZERS)}")
    lr, iter_step = build_lr(cfg.pop('learning_rate', 0.01), steps_per_epoch)
    cfg['weight_decay'] = build_regularizer(cfg.pop('weight_decay', None))
    if 'grad_clip' in cfg:
        cfg['grad_clip'] = paddle.nn.ClipGradByGlobalNorm(float(cfg['grad_clip']))
    try:
        opt = OPTIMIZERS[name](learning_rate=lr, parameters=parameters, **cfg)
    except TypeError as e:
        raise ConfigError(f'OPTIMIZER ({name}): {e}') from None
    scheduler = lr if isinstance(lr, paddle.optimizer.lr.LRScheduler) else None
    return opt, scheduler, iter_step
