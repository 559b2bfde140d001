"""The recognizer over raw skeleton frames, and the contract an exported model carries.

Frames are real Penn Action clips put back into pixels of a 340x256 video (their 'unit' scale undone). Weights are
PaddleVideo's compat checkpoint (input-dependent logits, DESIGN.md) on the FSD config, windows cut to 64 frames.
"""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import COMPAT, PENN, ROOT, need

need(COMPAT / 'paddlevideo_stgcn_fsd.pdparams')
need(PENN / 'test_data.npy')

from paddlevideo.inference import FusedRecognizer, Recognizer, export_model, model_contract, read_contract  # noqa: E402
from paddlevideo.inference.contract import contract_path  # noqa: E402
from paddlevideo.skeleton import denormalize_xy, mirror_frames, normalize_xy  # noqa: E402
from paddlevideo.utils.config import get_config  # noqa: E402
from paddlevideo.utils.errors import ConfigError  # noqa: E402

FSD = str(ROOT / 'configs' / 'recognition' / 'stgcn' / 'stgcn_fsd.yaml')
PENN_CFG = str(ROOT / 'configs' / 'recognition' / 'stgcn' / 'stgcn_penn_action.yaml')
WEIGHTS = str(COMPAT / 'paddlevideo_stgcn_fsd.pdparams')
OVERRIDES = ['MODEL.backbone.graph=spatial', 'INFERENCE.window_size=64', 'PIPELINE.test.sample.window_size=64']
SIZE = (340, 256)


def pixel_clips(n=4, frames=64):
    """n real Penn Action test clips, (T, 25, 3) x, y in pixels of a 340x256 video and a confidence."""
    data = np.load(PENN / 'test_data.npy', mmap_mode='r')
    clips = [np.array(data[i, :, :frames, :, 0]).transpose(1, 2, 0) for i in np.linspace(0, len(data) - 1, n,
                                                                                          dtype=int)]
    return [np.where(c[..., 2:] > 0, denormalize_xy(c, *SIZE, 'unit'), 0) for c in clips]


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp('export')
    cfg = get_config(FSD, OVERRIDES)
    export_model(cfg, WEIGHTS, str(folder), onnx=False)
    return cfg, folder / 'STGCN.json'


def test_the_exported_contract_is_the_configs(exported):
    cfg, model = exported
    contract = json.loads(open(contract_path(str(model))).read())
    assert contract == model_contract(cfg) == read_contract(str(model))
    assert (contract['input_shape'], contract['window'], contract['coords'], contract['layout']) == (
        [None, 2, 64, 25, 1], 64, 'fsd', 'fsd10')
    assert contract['pipeline'] == {'sample': {'name': 'Sampleframe', 'window_size': 64},
                                    'transform': [{'SkeletonNorm': None}]}


def test_penn_action_declares_its_scale_names_and_missing_joints():
    contract = model_contract(get_config(PENN_CFG))
    assert contract['coords'] == 'unit' and contract['fps'] is None
    assert contract['class_names'] == (PENN / 'class_names.txt').read_text().split()
    assert contract['pipeline']['transform'][0] == {'DropJoints': {'joints': list(range(15, 25))}}


def test_config_and_export_give_the_same_scores(exported):
    """Dygraph (config + weights) and Paddle Inference (exported, fp32) on the same raw frames, to 1e-4."""
    cfg, model = exported
    clips = pixel_clips()
    dygraph = Recognizer.from_config(cfg, WEIGHTS)
    deployed = Recognizer.from_export(str(model), backend='paddle')
    batch = np.stack([dygraph.prepare(dygraph.sample(c, SIZE), 'clip') for c in clips])
    logits = dygraph.logits(batch)
    assert logits.std(axis=0).mean() > 0.05, 'logits barely depend on the input'
    np.testing.assert_allclose(deployed.scores(clips, SIZE), dygraph.scores(clips, SIZE), rtol=0, atol=1e-4)
    np.testing.assert_allclose(deployed.logits(batch), logits, rtol=0, atol=1e-4)


@pytest.mark.parametrize('config, coords', [(FSD, 'fsd'), (PENN_CFG, 'unit')])
def test_pixels_reach_the_model_in_its_training_scale(config, coords):
    """Penn Action's own clips, put into pixels and back through a 'unit' recognizer, are the stored arrays."""
    cfg = get_config(config, OVERRIDES if config == FSD else [])
    recognizer = Recognizer(model_contract(cfg), None, config)
    clip = pixel_clips(1)[0]
    sample = recognizer.sample(clip, SIZE)
    assert sample.shape == (3, 64, 25, 1)
    np.testing.assert_allclose(sample[..., 0].transpose(1, 2, 0), normalize_xy(clip, *SIZE, coords), atol=1e-6)
    if coords == 'unit':
        stored = np.load(PENN / 'test_data.npy', mmap_mode='r')[0, :, :64, :, 0]
        seen = stored[2] > 0    # an occluded Penn joint keeps its position with confidence 0: missing for us
        assert seen.mean() > 0.3
        np.testing.assert_allclose(sample[..., 0][:, seen], stored[:, seen], atol=1e-5)


def test_joints_the_training_data_never_had_are_zeroed_before_the_model():
    """A pose estimator's eyes, ears and feet change nothing for the Penn Action model; without its DropJoints
    they would."""
    cfg = get_config(PENN_CFG)
    clip = pixel_clips(1)[0]
    with_feet = clip.copy()
    with_feet[:, 15:25] = [170.0, 200.0, 0.9]
    recognizer = Recognizer(model_contract(cfg), None, PENN_CFG)
    prepare = lambda c: recognizer.prepare(recognizer.sample(c, SIZE), 'clip')  # noqa: E731
    np.testing.assert_array_equal(prepare(with_feet), prepare(clip))
    cfg.PIPELINE.test.transform.pop(0)
    unguarded = Recognizer(model_contract(cfg), None, PENN_CFG)
    assert not np.array_equal(unguarded.prepare(unguarded.sample(with_feet, SIZE), 'clip'),
                              unguarded.prepare(unguarded.sample(clip, SIZE), 'clip'))


def stream(name, seen, **changes):
    """A recognizer of the Penn Action `name` stream config whose network records its input and answers fixed
    logits: class 2 for the joint stream, class 5 for the bone stream."""
    cfg = get_config(str(ROOT / 'configs' / 'recognition' / 'stgcn' / f'stgcn_penn_action_{name}.yaml'))
    contract = {**model_contract(cfg), **changes}
    logits = np.full(contract['num_classes'], -1.0)
    logits[{'joint': 2, 'bone': 5}[name]] = 3.0

    def run(batch):
        seen[name] = batch
        return np.tile(logits, (len(batch), 1))
    return Recognizer(contract, run, name)


def test_fused_streams_are_the_weighted_mean_of_their_softmax_scores():
    """Each stream gets its own pipeline's input (joints and bones of the same frames differ), the fused scores
    are (2 softmax(joint) + 1 softmax(bone)) / 3 by hand; disagreeing windows or classes are refused."""
    seen = {}
    fused = FusedRecognizer([stream('joint', seen), stream('bone', seen)], [2, 1])
    clips = pixel_clips(2)
    scores = fused.scores(clips, SIZE)
    one = np.full(15, -1.0)
    joint, bone = one.copy(), one.copy()
    joint[2], bone[5] = 3.0, 3.0
    soft = lambda z: np.exp(z) / np.exp(z).sum()  # noqa: E731
    np.testing.assert_allclose(scores, np.tile((2 * soft(joint) + soft(bone)) / 3, (2, 1)), atol=1e-12)
    assert seen['joint'].shape == seen['bone'].shape == (2, 2, 48, 25, 1)       # Penn Action's window: 48
    assert not np.allclose(seen['joint'], seen['bone'])
    with pytest.raises(ConfigError, match=r'^bone: window 32, joint has 48: fused models must see the same windows'):
        FusedRecognizer([stream('joint', seen), stream('bone', seen, window=32)])
    with pytest.raises(ConfigError, match=r'^bone: 15 classes \[.*\], joint has 15 .*: fused models must name the'):
        FusedRecognizer([stream('joint', seen), stream('bone', seen, background_class=3)])
    with pytest.raises(ConfigError, match=r'^1 weights for 2 models'):
        FusedRecognizer([stream('joint', seen), stream('bone', seen)], [1])


def test_a_mirrored_skater_by_hand():
    """--mirror: x -> W - x for the joints seen, left and right exchanged (RAnkle 11, LAnkle 14), missing joints
    stay 0; the recognizer mirrors before normalising, every stream of a fused one alike."""
    frames = np.zeros((1, 25, 3), np.float32)
    frames[0, 11], frames[0, 14], frames[0, 8] = (300, 200, .8), (100, 210, .9), (200, 150, 1)
    mirrored = mirror_frames(frames, 340, 'fsd10')
    assert mirrored[0, 14].tolist() == pytest.approx([40, 200, .8]) and mirrored[0, 11].tolist() == pytest.approx(
        [240, 210, .9])
    assert mirrored[0, 8].tolist() == [140, 150, 1] and not mirrored[0, 0].any()
    seen = {}
    fused = FusedRecognizer([stream('joint', seen), stream('bone', seen)])
    clip = pixel_clips(1)[0]
    fused.mirror = True
    assert fused.parts[1].mirror
    np.testing.assert_array_equal(fused.parts[0].sample(clip, SIZE),
                                  Recognizer(fused.contract, None, 'x').sample(mirror_frames(clip, 340, 'fsd10'), SIZE))


def test_a_config_that_disagrees_with_the_contract_is_one_clear_error(exported):
    _, model = exported
    cfg = get_config(FSD, OVERRIDES + ['INFERENCE.coords=unit'])
    with pytest.raises(ConfigError, match=r"^cfg.yaml disagrees with .*STGCN\.contract\.json: coords 'unit' against "
                                          r"'fsd' \(config against exported model\)"):
        Recognizer.from_export(str(model), cfg, 'cfg.yaml', backend='paddle')


def test_a_model_exported_before_contracts_needs_its_config(exported, tmp_path):
    cfg, model = exported
    for suffix in ('.json', '.pdiparams'):
        shutil.copy(model.with_suffix(suffix), tmp_path / ('old' + suffix))
    with pytest.raises(ConfigError, match=r'old\.json has no .*old\.contract\.json .* give --config'):
        Recognizer.from_export(str(tmp_path / 'old.json'), backend='paddle')
    clips = pixel_clips(2)
    old = Recognizer.from_export(str(tmp_path / 'old.json'), cfg, FSD, backend='paddle')
    np.testing.assert_allclose(old.scores(clips, SIZE), Recognizer.from_config(cfg, WEIGHTS).scores(clips, SIZE),
                               atol=1e-4)


def predict(*args):
    return subprocess.run([sys.executable, str(ROOT / 'tools' / 'predict.py'), *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def test_predict_needs_no_config_with_an_exported_model(exported, tmp_path):
    """The same classes and scores with the config as without it, on four real clips; a disagreeing config is one
    line."""
    _, model = exported
    data = np.load(PENN / 'test_data.npy', mmap_mode='r')
    clips = np.array(data[[0, 300, 600, 900]])
    clips[:, :2] *= 0.5                                    # 'unit' (2x/W - 1) -> FSD's x/W - 0.5
    np.save(tmp_path / 'clips.npy', clips)
    bare = predict('--input_file', tmp_path / 'clips.npy', '--model_file', model, '--top_k', 3)
    assert bare.returncode == 0, bare.stderr
    config = [a for o in OVERRIDES for a in ('-o', o)]
    given = predict('--input_file', tmp_path / 'clips.npy', '--model_file', model, '--top_k', 3, '--config', FSD,
                    *config)
    assert given.returncode == 0, given.stderr
    assert bare.stdout == given.stdout and bare.stdout.count('top-1 class') == 4
    assert len({line for line in bare.stdout.splitlines() if 'top-1 score' in line}) == 4   # input-dependent
    wrong = predict('--input_file', tmp_path / 'clips.npy', '--model_file', model, '--config', FSD, *config,
                    '-o', 'INFERENCE.coords=unit')
    assert wrong.returncode == 2 and 'Traceback' not in wrong.stderr
    errors = [line for line in wrong.stderr.splitlines() if line.startswith('error:')]
    assert len(errors) == 1 and "coords 'unit' against 'fsd'" in errors[0]
