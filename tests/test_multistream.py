"""Multi-stream ST-GCN as mmaction2 reports it: UniformSampleFrames, multi-clip testing, score fusion, the stream
configs and --auto-scale-lr."""
import math

import numpy as np
import paddle
import pytest
import yaml

from conftest import ROOT
from paddlevideo.loader import data_spec
from paddlevideo.loader.pipelines import Compose, UniformSampleFrames
from paddlevideo.metrics.fusion import fuse_scores, softmax
from paddlevideo.modeling import build_model
from paddlevideo.solver import build_optimizer
from paddlevideo.solver.optimizer import auto_scale_lr
from paddlevideo.tasks.test import test_model as run_test
from paddlevideo.tasks.train import evaluate
from paddlevideo.utils.config import get_config
from paddlevideo.utils.errors import ConfigError

CONFIGS = ROOT / 'configs' / 'recognition' / 'stgcn'
STREAMS = {'joint': 'j', 'bone': 'b', 'joint_motion': 'jm', 'bone_motion': 'bm'}


def clip(T, total=300, C=3, V=25):
    """(C, total, V, 1): frame t holds the value t + 1 in every joint for t < T, zeros after (padding)."""
    data = np.zeros((C, total, V, 1), np.float32)
    data[:, :T] = np.arange(1, T + 1, dtype=np.float32)[None, :, None, None]
    return data


def frames(out):
    """Frame indices a sampler took from clip(): the values minus one."""
    return (out[:, 0, :, 0, 0] if out.ndim == 5 else out[0, :, 0, 0]).astype(int) - 1


# ---------------------------------------------------------------- UniformSampleFrames

def test_short_clips_loop_from_mmaction2_test_starts():
    """T < clip_len: clip i starts at i * T // num_clips (at i when T < num_clips) and loops over the T frames."""
    out = UniformSampleFrames(5, num_clips=2, test_mode=True)(clip(3), None)
    assert out.shape == (2, 3, 5, 25, 1)
    assert frames(out).tolist() == [[0, 1, 2, 0, 1], [1, 2, 0, 1, 2]]
    out = UniformSampleFrames(4, num_clips=3, test_mode=True)(clip(2), None)
    assert frames(out).tolist() == [[0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]]


def test_long_clips_take_one_frame_per_segment_as_mmaction2():
    """T >= 2 * clip_len: segments [0, 2) [2, 5) [5, 7) [7, 10) of T = 10; mmaction2's draws with seed 255."""
    out = UniformSampleFrames(4, num_clips=3, test_mode=True)(clip(10), None)
    assert frames(out).tolist() == [[1, 3, 6, 8], [0, 3, 6, 7], [1, 3, 5, 7]]
    bounds = np.arange(49) * 200 // 48
    idx = frames(UniformSampleFrames(48, num_clips=10, test_mode=True)(clip(200), None))
    for row in idx:
        assert ((row >= bounds[:-1]) & (row < bounds[1:])).all()   # one frame in each segment: the whole clip
    assert len({tuple(r) for r in idx}) > 1                         # the ten clips are not all the same


def test_medium_clips_keep_order_and_skip_the_excess():
    """clip_len <= T < 2 * clip_len: strictly increasing, T - clip_len frames skipped; T == clip_len takes all."""
    assert frames(UniformSampleFrames(6, test_mode=True)(clip(6), None)).tolist() == list(range(6))
    idx = frames(UniformSampleFrames(6, num_clips=4, test_mode=True)(clip(9), None))
    for row in idx:
        assert (np.diff(row) > 0).all() and row.min() >= 0 and row.max() <= 8
        assert len(set(range(9)) - set(row)) == 3


def test_padding_frames_are_never_sampled_and_test_mode_ignores_the_rng():
    """Only the valid frames (up to the last non-zero one) are sampled; test mode gives the same indices whatever
    rng the pipeline passes; training draws from it (the same rng state, the same clip)."""
    sampler = UniformSampleFrames(48, num_clips=10, test_mode=True)
    a = sampler(clip(30), np.random.default_rng(1))
    assert (a != 0).all()                                   # no padding frame among 10 x 48 sampled frames
    assert np.array_equal(a, sampler(clip(30), np.random.default_rng(2)))
    train = UniformSampleFrames(16)
    x, y = (train(clip(100), np.random.default_rng(7)) for _ in range(2))
    assert x.shape == (3, 16, 25, 1) and np.array_equal(x, y) and (np.diff(frames(x)) > 0).all()
    starts = {frames(train(clip(5), np.random.default_rng(s)))[0] for s in range(40)}
    assert starts == set(range(5))                          # short clip in training: a random start, looped
    looped = frames(train(clip(5), np.random.default_rng(3)))
    assert ((looped[1:] - looped[:-1]) % 5 == 1).all()


def test_several_clips_need_test_mode():
    with pytest.raises(ConfigError, match='num_clips 10 needs test_mode: True'):
        UniformSampleFrames(48, num_clips=10)


def test_pipeline_runs_each_clip_alone():
    """Compose runs the transforms after the sampler on each clip: a clip's features equal the single-clip
    pipeline's on the frames that clip took (bone motion's last frame is zero, not a jump to the next clip)."""
    cfg = get_config(str(CONFIGS / 'stgcn_penn_action_bone_motion.yaml'))
    test = dict(cfg.PIPELINE.test)
    rng = np.random.default_rng(0)
    data = np.random.default_rng(1).normal(size=(3, 70, 25, 1)).astype(np.float32)
    many = Compose({**test, 'sample': {'name': 'UniformSampleFrames', 'clip_len': 16, 'num_clips': 3,
                                       'test_mode': True}}, 'fsd10')(data, rng)
    rest = Compose({'transform': test['transform']}, 'fsd10')
    index = UniformSampleFrames(16, num_clips=3, test_mode=True).indices(70, None)
    assert many.shape == (3, 2, 16, 25, 1)
    for k in range(3):
        assert np.allclose(many[k], rest(data[:, index[k]], rng), atol=1e-6)
        assert (many[k][:, -1] == 0).all()


# ---------------------------------------------------------------- multi-clip testing

def model_with_input_dependent_output(cfg, seed=0):
    """The config's model in eval mode with random BatchNorm statistics, so its logits depend on the input."""
    paddle.seed(seed)
    model = build_model(cfg.MODEL)
    rng = np.random.default_rng(seed)
    for name, value in model.state_dict().items():
        if name.endswith('_mean') or name.endswith('_variance'):
            shape = value.shape
            fill = rng.normal(0, 0.5, shape) if name.endswith('_mean') else rng.uniform(0.2, 2.0, shape)
            value.set_value(fill.astype(np.float32))
    model.eval()
    return model


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    """A 3-class bone-stream config over 5 random clips (lengths 9 to 60), tested with 4 clips of 16 frames."""
    folder = tmp_path_factory.mktemp('multiclip')
    rng = np.random.default_rng(0)
    data = np.zeros((5, 3, 80, 25, 1), np.float32)
    for i, T in enumerate((9, 16, 25, 40, 60)):
        data[i, :, :T] = rng.normal(size=(3, T, 25, 1))
    np.save(folder / 'x.npy', data)
    np.save(folder / 'y.npy', np.array([0, 1, 2, 1, 0], np.int64))
    overrides = [f'DATASET.test.file_path={folder / "x.npy"}', f'DATASET.test.label_path={folder / "y.npy"}',
                 'MODEL.head.num_classes=3', 'INFERENCE.class_names=[a, b, c]', f'output_dir={folder}',
                 'DATASET.test_batch_size=2',
                 'PIPELINE.test.sample={name: UniformSampleFrames, clip_len: 16, num_clips: 4, test_mode: true}']
    cfg = get_config(str(CONFIGS / 'stgcn_penn_action_bone.yaml'), overrides)
    model = model_with_input_dependent_output(cfg)
    paddle.save(model.state_dict(), str(folder / 'w.pdparams'))
    return cfg, model, data, folder


def test_multi_clip_scores_are_the_mean_of_each_clip_alone(tiny_run):
    """--test with 4 clips: one row per sample, whose softmax is the mean of the 4 clips' softmax scores, each clip
    run through the network alone."""
    cfg, model, data, folder = tiny_run
    report = run_test(cfg, str(folder / 'w.pdparams'), dump=str(folder / 'dump.npz'))
    dump = np.load(folder / 'dump.npz')
    assert dump['logits'].shape == (5, 3) and dump['labels'].tolist() == [0, 1, 2, 1, 0]
    pipeline = Compose(cfg.PIPELINE.test, 'fsd10')
    expected, per_clip = [], []
    for sample in data:
        clips = pipeline(sample, np.random.default_rng(0))
        assert clips.shape == (4, 2, 16, 25, 1)
        with paddle.no_grad():
            logits = np.concatenate([model(paddle.to_tensor(c[None])).numpy() for c in clips])
        per_clip.append(logits)
        expected.append(softmax(logits).mean(axis=0))
    per_clip = np.array(per_clip)
    assert np.ptp(per_clip, axis=1).max() > 1e-2          # the clips of a sample score differently
    assert np.ptp(per_clip, axis=0).max() > 1e-2          # and so do the samples
    assert np.allclose(softmax(dump['logits']), np.array(expected), atol=1e-5)
    assert report['top1'] == np.mean(np.argmax(expected, axis=1) == dump['labels'])


def test_single_clip_evaluation_keeps_the_raw_logits(tiny_run):
    cfg, model, data, _ = tiny_run
    batch = paddle.to_tensor(np.stack([Compose(cfg.PIPELINE.test, 'fsd10')(s, None)[0] for s in data[:2]]))
    logits, labels = evaluate(model, [(batch, paddle.to_tensor(np.array([0, 1])))])
    model.eval()   # evaluate leaves a model in training mode
    with paddle.no_grad():
        assert np.allclose(logits, model(batch).numpy(), atol=1e-6) and labels.tolist() == [0, 1]


# ---------------------------------------------------------------- fusion

def write(path, logits, labels=None):
    arrays = {'logits': np.array(logits, np.float32)}
    if labels is not None:
        arrays['labels'] = np.array(labels, np.int64)
    np.savez(path, **arrays)
    return str(path)


def fuse_cli(argv):
    from tools.fuse_scores import main
    from paddlevideo.utils.cli import run
    return run(main, argv)


def test_fusion_is_the_weighted_sum_of_softmax_scores(tmp_path):
    a = [[0.0, 1.0, 0.0], [2.0, 0.0, 0.0]]
    b = [[1.0, 0.0, 0.0], [0.0, 0.0, math.log(4)]]
    e, z = math.e, 2 + math.e                       # softmax rows by hand
    sa = [[1 / z, e / z, 1 / z], [e * e / (e * e + 2), 1 / (e * e + 2), 1 / (e * e + 2)]]
    sb = [[e / z, 1 / z, 1 / z], [1 / 6, 1 / 6, 4 / 6]]
    hand = [[2 * sa[i][k] + sb[i][k] for k in range(3)] for i in range(2)]
    assert np.allclose(fuse_scores([np.array(a), np.array(b)], [2, 1]), hand, atol=1e-12)

    # through the tool: sample 0 is class 1 by a alone, class 0 by b alone; fused 2 : 1 it is class 1
    out = tmp_path / 'fused.npz'
    fuse_cli([write(tmp_path / 'a.npz', a, [1, 2]), write(tmp_path / 'b.npz', b, [1, 2]), '--weights', '2', '1',
              '--out', str(out), '--confusion', str(tmp_path / 'cm'), '--top_k', '2'])
    fused = np.load(out)
    assert np.allclose(fused['scores'], hand, atol=1e-6) and fused['labels'].tolist() == [1, 2]
    assert np.allclose(softmax(fused['logits']), np.array(hand) / 3, atol=1e-6)
    cm = (tmp_path / 'cm' / 'confusion_matrix.csv').read_text().splitlines()
    assert cm[2] == '1,0,1,0' and cm[3] == '2,1,0,0'   # sample 1 (label 2) fused to class 0


def test_fuse_scores_prints_the_accuracies(tmp_path, capsys):
    z = np.eye(3)[[0, 1, 2, 0]] * 5
    fuse_cli([write(tmp_path / 'a.npz', z, [0, 1, 2, 1]), write(tmp_path / 'b.npz', z, [0, 1, 2, 1])])
    out = capsys.readouterr().out
    assert 'fused 2 streams, weights 1 : 1, 4 samples' in out
    assert 'top1: 0.7500  top5: 1.0000  mean_class_accuracy: 0.8333' in out


@pytest.mark.parametrize('second, message', [
    (([[0, 1]] * 3, [0, 1, 1]), 'b.npz: 3 samples, {a} has 2: the dumps must cover the same test set'),
    (([[0, 1]] * 2, [1, 0]), 'b.npz: labels differ from {a} at 2 rows (first: row 0, 1 vs 0); same labels in '
                             'another order: the samples are not in the same order'),
    (([[0, 1]] * 2, [0, 0]), 'b.npz: labels differ from {a} at 1 rows (first: row 1, 0 vs 1); not the same test '
                             'samples'),
    (([[0, 1, 2]] * 2, [0, 1]), 'b.npz: 3 classes, {a} has 2'),
    (([[0, 1]] * 2, None), 'b.npz: labels missing, in {a} present: dumps of the same labelled test set expected'),
])
def test_mismatched_dumps_are_refused_in_one_line(tmp_path, capsys, second, message):
    a = write(tmp_path / 'a.npz', [[1, 0], [0, 1]], [0, 1])
    b = write(tmp_path / 'b.npz', *second)
    with pytest.raises(SystemExit) as exit_:
        fuse_cli([a, b])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == f'error: {tmp_path}/' + message.format(a=a) + '\n'


def test_bad_weights_and_a_pickle_are_refused(tmp_path, capsys):
    a = write(tmp_path / 'a.npz', [[1, 0]], [0])
    with pytest.raises(SystemExit):
        fuse_cli([a, a, '--weights', '1'])
    assert capsys.readouterr().err == 'error: 1 weights for 2 score dumps: one weight per score dump\n'
    np.savez(tmp_path / 'p.npz', logits=np.array([{'x': 1}], dtype=object))
    with pytest.raises(SystemExit):
        fuse_cli([a, str(tmp_path / 'p.npz')])
    err = capsys.readouterr().err
    assert err.startswith(f'error: {tmp_path}/p.npz: not a readable .npz score dump') and err.count('\n') == 1


# ---------------------------------------------------------------- stream configs

@pytest.mark.parametrize('base', ['penn_action', 'fsjump3d'])
@pytest.mark.parametrize('stream', list(STREAMS))
def test_stream_configs_differ_from_their_base_only_in_the_features(base, stream):
    """Each stream config is its base with GenSkeFeat feats [stream], 2 channels and its own model_name."""
    def load(name):
        with open(CONFIGS / f'stgcn_{name}.yaml') as f:
            return yaml.safe_load(f)
    base_cfg, cfg = load(base), load(f'{base}_{stream}')
    feats = [STREAMS[stream]]
    for split in ('train', 'test'):
        steps = [s for s in base_cfg['PIPELINE'][split]['transform'] if 'GenSkeFeat' in s]
        assert len(steps) == 1
        steps[0]['GenSkeFeat']['feats'] = feats
    base_cfg['MODEL']['backbone']['in_channels'] = base_cfg['INFERENCE']['num_channels'] = 2
    base_cfg['model_name'] += f'_{stream}'
    assert cfg == base_cfg
    built = get_config(str(CONFIGS / f'stgcn_{base}_{stream}.yaml'))   # and it reads as a config
    assert Compose(built.PIPELINE.test, 'fsd10', data_spec(built)['window']).in_channels(2) == 2


# ---------------------------------------------------------------- --auto-scale-lr

def test_auto_scale_lr_is_linear_in_the_total_batch():
    cfg = get_config(str(CONFIGS / 'stgcn_penn_action_joint.yaml'), ['OPTIMIZER.base_batch_size=16'])
    line = auto_scale_lr(cfg, 48)
    assert cfg.OPTIMIZER.learning_rate.learning_rate == pytest.approx(0.05 * 48 / 16)
    assert line == '--auto-scale-lr: learning rate x 3 (total batch 48 / base_batch_size 16): learning_rate 0.15'
    params = build_model(cfg.MODEL).parameters()
    opt, _, _ = build_optimizer(cfg.OPTIMIZER, params, 10)
    assert opt.get_lr() == pytest.approx(0.15)

    warm = get_config(str(CONFIGS / 'stgcn_fsjump3d_bone.yaml'), ['OPTIMIZER.base_batch_size=8'])
    auto_scale_lr(warm, 4)
    assert warm.OPTIMIZER.learning_rate.warmup_start_lr == pytest.approx(0.0025)
    assert warm.OPTIMIZER.learning_rate.cosine_base_lr == pytest.approx(0.015)
    with pytest.raises(ConfigError, match='--auto-scale-lr needs OPTIMIZER.base_batch_size'):
        auto_scale_lr(get_config(str(CONFIGS / 'stgcn_penn_action_joint.yaml')), 16)


def test_main_scales_by_the_batch_of_all_processes(monkeypatch, capsys):
    """main.py --auto-scale-lr under 2 processes of batch 16 against a base of 16: lr 0.05 x 2."""
    import main
    import paddlevideo.tasks.train as train
    seen = {}
    monkeypatch.setattr(train, 'train_model', lambda cfg, **kw: seen.setdefault('cfg', cfg))
    monkeypatch.setenv('PADDLE_TRAINERS_NUM', '2')
    monkeypatch.setenv('PADDLE_TRAINER_ID', '0')
    main.main(['-c', str(CONFIGS / 'stgcn_penn_action_joint.yaml'), '--auto-scale-lr',
               '-o', 'OPTIMIZER.base_batch_size=16'])
    assert seen['cfg'].OPTIMIZER.learning_rate.learning_rate == pytest.approx(0.1)
    assert 'learning rate x 2 (total batch 32 / base_batch_size 16)' in capsys.readouterr().out


# ---------------------------------------------------------------- fusion in deployment

def test_predict_fuses_exported_streams_each_with_its_own_pipeline(tmp_path, capsys):
    """predict.py with a joint and a bone model, weights 2 : 1: every sample's scores are (2 p_joint + p_bone) / 3,
    p being what predict.py gives for each model alone (each model computing its own features from the raw file)."""
    import json
    from paddlevideo.inference import export_model
    from tools.predict import main as predict
    models = {}
    for k, stream in enumerate(('joint', 'bone')):
        cfg = get_config(str(CONFIGS / f'stgcn_penn_action_{stream}.yaml'),
                         ['MODEL.head.num_classes=3', 'INFERENCE.class_names=[a, b, c]'])
        weights = tmp_path / f'{stream}.pdparams'
        paddle.save(model_with_input_dependent_output(cfg, seed=k).state_dict(), str(weights))
        export_model(cfg, str(weights), str(tmp_path / stream), onnx=False)
        models[stream] = str(tmp_path / stream / f'{cfg.model_name}.json')
    x = np.zeros((3, 3, 70, 25, 1), np.float32)
    x[:, :, :50] = np.random.default_rng(0).normal(size=(3, 3, 50, 25, 1))
    np.save(tmp_path / 'x.npy', x)

    def scores(*model_files, weights=()):
        out = tmp_path / 'out.json'
        predict(['-i', str(tmp_path / 'x.npy'), '--model_file', *model_files, '--top_k', '3', '--output', str(out),
                 *(['--fuse-weights', *weights] if weights else [])])
        result = json.loads(out.read_text())
        table = np.zeros((3, 3))
        for i, row in enumerate(result['results']):
            for top in row['top_k']:
                table[i, top['class_id']] = top['score']
        return table, result
    joint, _ = scores(models['joint'])
    bone, _ = scores(models['bone'])
    fused, result = scores(models['joint'], models['bone'], weights=('2', '1'))
    assert np.ptp(joint - bone) > 1e-2                    # the two streams disagree, so the weights matter
    assert np.allclose(fused, (2 * joint + bone) / 3, atol=1e-6)
    assert result['fuse_weights'] == [2.0, 1.0] and [m['model_file'] for m in result['models']] == \
        [models['joint'], models['bone']]
    capsys.readouterr()
    from paddlevideo.utils.cli import run
    with pytest.raises(SystemExit):
        run(predict, ['-i', str(tmp_path / 'x.npy'), '--model_file', models['joint'], models['bone'],
                      '--fuse-weights', '1'])
    assert capsys.readouterr().err == 'error: 1 weights for 2 models: one weight per model\n'
