"""The training loop main.py calls: train, validate, checkpoint, resume; data parallel under
paddle.distributed.launch (rank 0 alone validates, logs to file and writes checkpoints)."""
import glob
import math
import os
import re
import time

import numpy as np
import paddle
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from ..loader import build_dataset, build_loader, metric_top_k, num_classes
from ..metrics import classification_report, headline, parse_log, plot_curves
from ..modeling import build_model
from ..modeling.backbones import cpu_gemm
from ..solver import build_optimizer
from ..utils.checkpoint import atomic_save, load_state, load_weights
from ..utils.errors import ConfigError, PaddleVideoError
from ..utils.launch import world_size
from ..utils.logger import epoch_line, get_logger, step_line
from ..utils.runtime import set_malloc_policy
from . import run_dir


def stratified_holdout(labels, fraction, seed):
    """Indices (train, valid): `fraction` of every class (at least one sample of a class with two or more)."""
    rng = np.random.default_rng(seed)
    valid = []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        take = int(round(len(idx) * fraction)) if len(idx) > 1 else 0
        valid.extend(idx[:max(take, 1 if len(idx) > 1 else 0)])
    valid = np.sort(np.array(valid, dtype=np.int64))
    return np.setdiff1d(np.arange(len(labels)), valid), valid


def checkpoint_path(cfg, epoch, ext):
    return os.path.join(cfg.output_dir, f'{cfg.model_name}_epoch_{epoch:05d}.{ext}')


def last_complete_epoch(cfg):
    """Highest epoch with both .pdparams and .pdopt in output_dir (0 if none)."""
    done = 0
    for path in glob.glob(os.path.join(cfg.output_dir, f'{cfg.model_name}_epoch_*.pdopt')):
        m = re.search(r'_epoch_(\d+)\.pdopt$', path)
        if m and os.path.isfile(path[:-len('pdopt')] + 'pdparams'):
            done = max(done, int(m.group(1)))
    return done


def mixup(data, labels, alpha, rng):
    """Mix each sample with a permuted partner: (data, labels, labels_b, lam)."""
    lam = float(rng.beta(alpha, alpha))
    perm = rng.permutation(len(labels))
    return lam * data + (1 - lam) * data[perm], labels, labels[perm], lam


# Joint-frames (T x V x M, summed over clips) per forward pass when evaluating on the CPU: a batch of 32 FSD clips
# (350 x 25) runs as 8 chunks of 4. The logits are the same (each clip is computed alone), but a chunk's
# activations (about 9 MB) stay in glibc's heap and are reused, where a whole batch's (72 MB) are fresh mappings
# the kernel faults in and zeroes at every layer: 7.9 against 5.2 clips/s, 449 against 754 MB peak (README).
CPU_EVAL_JOINT_FRAMES = 4 * 350 * 25


def eval_logits(model, data):
    """model(data) as numpy logits; on the CPU in equal chunks of about CPU_EVAL_JOINT_FRAMES joint-frames."""
    n = len(data)
    chunks = math.ceil(n * math.prod(data.shape[2:]) / CPU_EVAL_JOINT_FRAMES) if data.place.is_cpu_place() else 1
    step = math.ceil(n / min(max(chunks, 1), n))
    return np.concatenate([model(data[i:i + step]).numpy() for i in range(0, n, step)])


def mean_clip_logits(logits):
    """(N, clips, K) logits -> (N, K): the log of the mean of the clips' softmax scores (mmaction2's 'prob'
    average), so softmax of the result is that mean exactly and a dump keeps meaning 'logits'."""
    log_p = logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)
    return (np.logaddexp.reduce(log_p, axis=1) - np.log(logits.shape[1])).astype(np.float32)


def evaluate(model, loader):
    """Logits and labels over a loader, in dataset order, one row per sample. A batch of several clips per
    sample (N, clips, C, W, V, M) runs as N * clips clips, their scores averaged per sample (mean_clip_logits)."""
    model.eval()
    logits, labels = [], []
    with paddle.no_grad():
        for data, label in loader:
            if data.ndim == 6:
                n, clips = data.shape[:2]
                out = eval_logits(model, data.reshape([n * clips, *data.shape[2:]]))
                logits.append(mean_clip_logits(out.astype(np.float64).reshape(n, clips, -1)))
            else:
                logits.append(eval_logits(model, data))
            labels.append(label.numpy())
    model.train()
    return np.concatenate(logits), np.concatenate(labels)


def parallel_rank():
    """(rank, world size) of this process under paddle.distributed.launch, (0, 1) when it runs alone; starts
    the process group (gloo on the CPU, NCCL on GPUs) once."""
    world = world_size()
    if world > 1 and not paddle.distributed.is_initialized():
        paddle.distributed.init_parallel_env()
    return int(os.environ.get('PADDLE_TRAINER_ID', '0')), world


class TrainStep:
    """Forward, backward and optimizer step on one batch, float16 autocast with loss scaling when amp is on (a
    GPU). `net` runs the forward (the model itself, or its paddle.DataParallel wrapper, which all-reduces the
    gradients). Returns the step's metrics as floats."""

    def __init__(self, model, optimizer, amp=False, net=None):
        self.model, self.net, self.optimizer, self.amp = model, net or model, optimizer, amp
        self.scaler = paddle.amp.GradScaler(init_loss_scaling=1024) if amp else None

    def __call__(self, data, labels, **mix):
        with paddle.amp.auto_cast(enable=self.amp, dtype='float16'):
            out = self.model.train_outputs(self.net(data), labels, **mix)
        if self.scaler is not None:
            self.scaler.scale(out['loss']).backward()
            self.scaler.step(self.optimizer)
            self.scaler.update()
        else:
            out['loss'].backward()
            self.optimizer.step()
        self.optimizer.clear_grad()
        return {k: float(v) for k, v in out.items()}


def train_model(cfg, weights=None, validate=False, seed=None, resume=False, amp=False, indices=None,
                overwrite=False):
    """Train per the config (on the samples `indices` of DATASET.train only, when given: a cross-validation
    fold); returns the model. output_dir must be free, or this run's to `resume`, or given up by `overwrite`
    (run_dir.claim). Optimizer-state names are scoped to this call, so a resumed run finds its accumulators
    whatever else the process built before."""
    with paddle.utils.unique_name.guard():
        return _train(cfg, weights, validate, seed, resume, amp, indices, overwrite)


def _train(cfg, weights, validate, seed, resume, amp, indices=None, overwrite=False):
    seed = int(cfg.get('seed', 0) if seed is None else seed)
    rank, world = parallel_rank()
    main = rank == 0
    if main:
        resumable = run_dir.claim(cfg, seed, resume, overwrite)
        if resume and not resumable:
            print(f'--resume: nothing to resume in {cfg.output_dir}: training from epoch 1')
    logger = get_logger(cfg.output_dir if main else None, level=cfg.get('log_level', 'INFO'))
    paddle.seed(seed)
    ds_cfg = cfg.get('DATASET') or {}
    train_set = build_dataset(cfg, 'train', seed=seed, indices=indices)
    valid_loader = None
    if validate and main:
        if ds_cfg.get('valid'):
            valid_set = build_dataset(cfg, 'valid', pipeline_split='valid')
        else:  # hold out a stratified fraction of train (PaddleVideo crashes here)
            fraction = float(ds_cfg.get('valid_fraction', 0.1))
            keep, hold = stratified_holdout(train_set.labels[train_set.indices], fraction, seed)
            train_idx, valid_idx = train_set.indices[keep], train_set.indices[hold]
            train_set = build_dataset(cfg, 'train', seed=seed, indices=train_idx)
            valid_set = build_dataset(cfg, 'train', pipeline_split='valid', seed=seed, indices=valid_idx)
            logger.info(f'validate on a stratified {fraction:.0%} of train: {len(valid_idx)} samples held out')
        valid_loader, _ = build_loader(valid_set, int(ds_cfg.get('valid_batch_size',
                                                                 ds_cfg.get('test_batch_size', 32))))
    batch_size = int(ds_cfg.get('batch_size', 16))
    if len(train_set) // world < batch_size:
        raise ConfigError(f'DATASET.batch_size {batch_size} is larger than the training set ({len(train_set)}'
                          + (f' over {world} processes)' if world > 1 else ')'))
    loader, sampler = build_loader(train_set, batch_size, int(ds_cfg.get('num_workers', 0)), shuffle=True,
                                   drop_last=True, seed=seed, rank=rank, world=world)
    model = build_model(cfg.MODEL)
    lean = bool((cfg.MODEL.get('backbone') or {}).get('with_cp'))
    if set_malloc_policy(keep_freed=not lean):  # with_cp asks for memory over speed; else the other way round
        logger.info('malloc: freed memory ' + ('returned to the system (with_cp)' if lean else 'kept for reuse'))
    epochs = int(cfg.get('epochs', 1))
    optimizer, scheduler, iter_step = build_optimizer(cfg.get('OPTIMIZER'), model.parameters(), len(sampler))
    mix_alpha = float((cfg.get('MIX') or {}).get('alpha', 0)) if cfg.get('MIX') else 0.0

    start_epoch, best = 1, -1.0
    if resume:
        done = last_complete_epoch(cfg)
        if done:
            load_weights(model, checkpoint_path(cfg, done, 'pdparams'))
            state = load_state(checkpoint_path(cfg, done, 'pdopt'))
            best = float(state.pop('best_top1', -1.0))
            state.pop('epoch', None)
            optimizer.set_state_dict(state)
            start_epoch = done + 1
            logger.info(f'resumed from epoch {done} in {cfg.output_dir}')
    elif weights:
        load_weights(model, weights, notify=logger.info)
        logger.info(f'fine-tuning from {weights}')

    cpu_bf16 = False
    if amp and not paddle.is_compiled_with_cuda():  # float16 autocast is for a GPU; on the CPU, our bf16 GEMMs
        cpu_bf16, line = cpu_gemm.amp_on_cpu()
        logger.info(line)
        amp = False
    net = model
    if world > 1:
        net = paddle.DataParallel(model)
        logger.info(f'data parallel: {world} processes x {os.environ.get("OMP_NUM_THREADS")} threads, batch '
                    f'{batch_size} per process ({batch_size * world} per step)')
    step_fn = TrainStep(model, optimizer, amp, net)
    if cpu_bf16:  # each step (not validation) under bf16_autocast
        step_fn = cpu_gemm.bf16_autocast()(step_fn)
    log_interval = int(cfg.get('log_interval', 10))
    save_interval = int(cfg.get('save_interval', 10))
    model.train()
    for epoch in range(start_epoch, epochs + 1):
        paddle.seed(seed * 1000 + epoch)  # dropout etc. depend on (seed, epoch) only: resume-exact
        sampler.set_epoch(epoch)
        rng = np.random.default_rng([seed, epoch, 1])
        sums, seen, costs, tic = {}, 0, ([], []), time.time()
        with logging_redirect_tqdm([logger]), tqdm(total=len(sampler), desc=f'epoch {epoch}', leave=False,
                                                    disable=not os.isatty(1)) as bar:
            for step, (data, labels) in enumerate(loader):
                reader_cost = time.time() - tic
                extra = {}
                if mix_alpha > 0:
                    data, labels, labels_b, lam = mixup(data, labels, mix_alpha, rng)
                    extra = dict(labels_b=labels_b, lam=lam)
                lr = optimizer.get_lr()
                values = step_fn(data, labels, **extra)
                if scheduler is not None and iter_step:
                    scheduler.step()
                if not np.isfinite(values['loss']):
                    raise PaddleVideoError(f'loss is {values["loss"]} at epoch {epoch} step {step}: lower '
                                           f'OPTIMIZER.learning_rate or check the data')
                n = len(labels)
                for k, v in values.items():
                    sums[k] = sums.get(k, 0.0) + v * n
                seen += n
                batch_cost = time.time() - tic
                costs[0].append(batch_cost)
                costs[1].append(reader_cost)
                bar.update(1)
                if step % log_interval == 0:
                    steps_left = (epochs - epoch) * len(sampler) + len(sampler) - step - 1
                    logger.info(step_line('train', epoch, epochs, step, values, lr, batch_cost, reader_cost,
                                          n / batch_cost, eta=steps_left * np.mean(costs[0])))
                tic = time.time()
        if scheduler is not None and not iter_step:
            scheduler.step()
        if world > 1:  # the epoch's averages over every rank's samples
            totals = paddle.to_tensor([float(seen)] + list(sums.values()), dtype='float32')
            paddle.distributed.all_reduce(totals)
            seen, sums = totals[0].item(), dict(zip(sums, totals[1:].tolist()))
        logger.info(epoch_line('train', epoch, {k: v / seen for k, v in sums.items()}, *costs, seen))

        if valid_loader is not None and epoch % int(cfg.get('val_interval', 1)) == 0:
            logits, labels = evaluate(model, valid_loader)
            report = classification_report(logits, labels, num_classes(cfg), metric_top_k(cfg))
            logger.info(f"epoch:[{epoch:>3d}/{epochs:<3d}] val {headline(report)}")
            if report['top1'] > best:
                best = report['top1']
                atomic_save(model.state_dict(), os.path.join(cfg.output_dir, f'{cfg.model_name}_best.pdparams'))
                logger.info(f'Already save the best model (top1 {best:.4f})')

        if not main:
            continue
        atomic_save(model.state_dict(), checkpoint_path(cfg, epoch, 'pdparams'))
        atomic_save({**optimizer.state_dict(), 'epoch': epoch, 'best_top1': best}, checkpoint_path(cfg, epoch, 'pdopt'))
        previous = epoch - 1
        if previous >= 1 and previous % save_interval != 0:  # keep every save_interval-th and the last
            for ext in ('pdparams', 'pdopt'):
                if os.path.exists(checkpoint_path(cfg, previous, ext)):
                    os.remove(checkpoint_path(cfg, previous, ext))
    if main:
        curves = os.path.join(cfg.output_dir, 'train_curves.png')
        plot_curves(parse_log(os.path.join(cfg.output_dir, 'train.log')), curves, cfg.model_name)
        logger.info(f'training curves: {curves}')
    logger.info(f'training done: {checkpoint_path(cfg, epochs, "pdparams")}')
    return model
