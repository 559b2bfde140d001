"""Sampleframe / SkeletonNorm behaviour, PaddleVideo's bugs fixed, and the augmentations."""
import numpy as np
import pytest

from conftest import ROOT
from paddlevideo.loader.pipelines import (Compose, DropJoints, GenSkeFeat, RandomCrop, RandomFlip,
                                          RandomRotateScale, Sampleframe, SkeletonNorm, valid_length)
from paddlevideo.skeleton import FLIP_PAIRS, LAYOUTS, bone_parents, denormalize_xy, normalize_xy
from paddlevideo.utils.errors import ConfigError


def clip(T_valid, T=100, C=3, V=25, seed=0):
    """A (C, T, V, 1) sample whose frame t holds the value t + 1 everywhere, zero-padded after T_valid."""
    data = np.zeros((C, T, V, 1), np.float32)
    data[:, :T_valid] = np.arange(1, T_valid + 1, dtype=np.float32)[None, :, None, None]
    return data


def paddlevideo_frame_count(data):
    """PaddleVideo's AutoPadding rule: last frame whose sum is > 0."""
    for i in range(data.shape[1] - 1, -1, -1):
        if data[:, i].sum() > 0:
            return i + 1
    return data.shape[1]


def test_valid_length_keeps_frames_with_negative_sum(penn):
    data = clip(30)
    data[:, 25:30] = -0.5                      # real frames whose x + y sum is negative
    assert valid_length(data) == 30
    assert paddlevideo_frame_count(data) == 25  # PaddleVideo would drop five valid frames
    wrong = [valid_length(s) != paddlevideo_frame_count(s) for s in penn['train_x'][:400]]
    assert sum(wrong) >= 5          # real clips whose length PaddleVideo's rule gets wrong
    negative = np.zeros((3, 40, 25, 1), np.float32)
    negative[:2, :10] = -0.3        # every frame sums below zero: PaddleVideo keeps all 40 frames, padding too
    assert valid_length(negative) == 10 and paddlevideo_frame_count(negative) == 40


def test_uniform_sampling_stays_inside_valid_frames():
    rng = np.random.default_rng(0)
    out = Sampleframe(window_size=20)(clip(60), rng)
    frames = out[0, :, 0, 0]
    assert frames[0] == 1 and frames[-1] == 60          # first and last valid frame, never padding (0)
    assert np.all(np.diff(frames) > 0)
    full = Sampleframe(window_size=20)(clip(100, T=100), rng)   # a full array: PaddleVideo indexes frame 100
    assert full[0, -1, 0, 0] == 100


def test_short_clip_is_zero_padded_and_long_clip_exact():
    out = Sampleframe(window_size=50)(clip(30), np.random.default_rng(0))
    assert out.shape == (3, 50, 25, 1) and out.dtype == np.float32
    assert np.array_equal(out[0, :30, 0, 0], np.arange(1, 31)) and not out[:, 30:].any()
    same = Sampleframe(window_size=30)(clip(30), np.random.default_rng(0))
    assert np.array_equal(same, clip(30)[:, :30])


def test_random_sampling_keeps_temporal_order_and_varies():
    s = Sampleframe(window_size=20, random_pad=True)
    outs = [s(clip(80), np.random.default_rng(i))[0, :, 0, 0] for i in range(5)]
    for frames in outs:
        assert np.all(np.diff(frames) > 0) and frames.min() >= 1 and frames.max() <= 80
    assert len({tuple(f) for f in outs}) == 5
    starts = {int(np.flatnonzero(s(clip(10), np.random.default_rng(i))[0, :, 0, 0])[0]) for i in range(20)}
    assert len(starts) > 3                      # a short clip lands at random offsets in the window


def test_skeleton_norm_centres_on_midhip_and_keeps_xy():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(3, 10, 25, 1)).astype(np.float64)
    out = SkeletonNorm()(data, rng)
    assert out.shape == (2, 10, 25, 1) and out.dtype == np.float32
    assert np.allclose(out, (data - data[:, :, 8:9])[:2], atol=1e-6) and not out[:, :, 8].any()
    assert SkeletonNorm(axis=3, squeeze=True)(data, rng).shape == (3, 10, 25)


def test_skeleton_norm_clip_centre_keeps_motion_missing_joints_and_padding():
    rng = np.random.default_rng(0)
    data = np.zeros((3, 12, 25, 1), np.float32)
    data[:, :8] = rng.normal(size=(3, 8, 25, 1))
    data[:, :8, 20] = 0                                                  # a joint the pose estimator missed
    data[:, 2, 8] = 0                                                    # the centre joint missing in frame 2
    out = SkeletonNorm(per_frame=False)(data, rng)
    seen = [t for t in range(8) if t != 2]
    centre = data[:2, seen, 8].mean(axis=1)                              # (2, M): over frames holding it
    expected = data[:2] - centre[:, None, None, :]
    expected[:, :, 20] = 0
    expected[:, 2, 8] = 0
    expected[:, 8:] = 0
    assert np.allclose(out, expected, atol=1e-6)
    assert not np.allclose(out[:, :8, 8], 0)                             # the body's own motion is kept

def test_compat_pipeline_matches_paddlevideo(compat):
    raw = np.load(compat / 'paddlevideo_stgcn_fsd_raw.npy')[0]
    expected = np.load(compat / 'paddlevideo_stgcn_fsd_input.npy')[0]
    pipe = Compose({'sample': {'name': 'AutoPadding', 'window_size': 350}, 'transform': [{'SkeletonNorm': None}]})
    assert np.array_equal(pipe(raw, np.random.default_rng(0)), expected)


def test_flip_swaps_left_right_and_negates_x():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(3, 8, 25, 1)).astype(np.float32)
    flip = RandomFlip(prob=1.0)
    out = flip(data, rng)
    for a, b in FLIP_PAIRS['fsd10']:
        assert np.array_equal(out[0, :, a], -data[0, :, b]) and np.array_equal(out[1, :, a], data[1, :, b])
    assert np.array_equal(out[:, :, 8], data[:, :, 8] * np.array([-1, 1, 1])[:, None, None])
    assert np.array_equal(flip(out, rng), data)                          # an involution
    assert np.array_equal(RandomFlip(prob=0.0)(data, rng), data)


def test_rotate_scale_keeps_zeros_and_bounds_the_change():
    data = clip(30).copy()
    data[0] *= 0.01
    data[1] *= -0.02
    out = RandomRotateScale(max_angle=10, scale=(0.9, 1.1))(data, np.random.default_rng(3))
    assert not out[:, 30:].any()                                         # padding stays padding
    ratio = np.linalg.norm(out[:2, :30], axis=0) / np.linalg.norm(data[:2, :30], axis=0)
    assert np.allclose(ratio, ratio.flat[0]) and 0.9 <= ratio.flat[0] <= 1.1   # one scale, a pure rotation
    assert np.array_equal(out[2], data[2])                               # confidence untouched
    cos = (out[:2, :30] * data[:2, :30]).sum(0) / np.linalg.norm(out[:2, :30], axis=0) / \
        np.linalg.norm(data[:2, :30], axis=0)
    assert cos.min() >= np.cos(np.deg2rad(10)) - 1e-6


def test_random_crop_keeps_a_contiguous_ordered_part():
    out = RandomCrop(min_ratio=0.5)(clip(40), np.random.default_rng(1))
    frames = out[0, :, 0, 0]
    n = valid_length(out)
    assert 20 <= n <= 40 and np.array_equal(np.diff(frames[:n]), np.ones(n - 1)) and not frames[n:].any()


def test_random_crop_frames_keeps_a_run_of_frames_like_a_sliding_window():
    """frames: [10, 12] with frames_prob 1: every draw a contiguous run of 10-12 frames, starts spread over the
    clip; a clip shorter than the run is kept whole; frames_prob 0 is the ratio crop again."""
    rng = np.random.default_rng(2)
    crop = RandomCrop(min_ratio=0.9, frames=[10, 12], frames_prob=1)
    lengths, starts = set(), set()
    for _ in range(200):
        out = crop(clip(40), rng)
        n, frames = valid_length(out), out[0, :, 0, 0]
        assert np.array_equal(np.diff(frames[:n]), np.ones(n - 1)) and not frames[n:].any()
        lengths.add(n), starts.add(int(frames[0]))
    assert lengths == {10, 11, 12} and min(starts) <= 3 and max(starts) >= 27
    assert valid_length(crop(clip(8), rng)) == 8
    ratio_only = RandomCrop(min_ratio=0.9, frames=[10, 12], frames_prob=0)
    assert all(36 <= valid_length(ratio_only(clip(40), rng)) <= 40 for _ in range(50))


@pytest.mark.parametrize('window', [16, 64])
def test_pipeline_is_reproducible_for_a_seed(window):
    pipe = Compose({'transform': [{'RandomCrop': None}, {'Sampleframe': {'window_size': window, 'random_pad': True}},
                                  {'RandomRotateScale': None}, {'RandomFlip': None}, {'SkeletonNorm': None}]})
    data = np.random.default_rng(0).normal(size=(3, 90, 25, 1)).astype(np.float32)
    a = pipe(data, np.random.default_rng([1, 2, 3]))
    assert np.array_equal(a, pipe(data, np.random.default_rng([1, 2, 3])))
    assert not np.array_equal(a, pipe(data, np.random.default_rng([1, 2, 4])))
    assert a.shape == (2, window, 25, 1)


@pytest.mark.parametrize('layout', sorted(LAYOUTS))
def test_bone_parents_form_a_tree_from_the_centre(layout):
    spec, parent = LAYOUTS[layout], bone_parents(layout)
    assert parent[spec['center']] == spec['center']
    edges, bones = {frozenset(e) for e in spec['edges']}, {frozenset((v, p)) for v, p in enumerate(parent) if v != p}
    assert bones <= edges and len(bones) == spec['num_node'] - 1         # a spanning tree: one bone per edge,
    assert len(edges) == len(bones) + (layout == 'coco_keypoint')        # but PaddleVideo's coco_keypoint's cycle
    for v in range(spec['num_node']):                                              # every chain ends at the centre
        for _ in range(spec['num_node']):
            v = parent[v]
        assert v == spec['center']


def test_gen_ske_feat_bones_and_motion():
    rng = np.random.default_rng(0)
    data = np.zeros((2, 6, 25, 1), np.float32)
    data[:, :4] = rng.normal(size=(2, 4, 25, 1))     # four valid frames, then padding
    data[:, 1, 3] = 0                                  # right elbow (3) missing in frame 1
    out = GenSkeFeat(feats=['j', 'b', 'jm', 'bm'])(data, rng)
    j, b, jm, bm = out[0:2], out[2:4], out[4:6], out[6:8]
    assert out.shape == (8, 6, 25, 1) and np.array_equal(j, data)
    assert np.array_equal(b[:, 0, 4], data[:, 0, 4] - data[:, 0, 3])              # wrist minus elbow
    assert np.array_equal(b[:, 0, 1], data[:, 0, 1] - data[:, 0, 8]) and not b[:, :, 8].any()   # centre: no bone
    assert not b[:, 1, 4].any() and not b[:, 1, 3].any()                            # a missing end: zero
    assert np.array_equal(jm[:, 0, 0], data[:, 1, 0] - data[:, 0, 0])
    assert not jm[:, 0, 3].any() and not jm[:, 1, 3].any()                          # into / out of the gap
    assert not jm[:, 3:].any() and not b[:, 4:].any() and not bm[:, 3:].any()       # padding stays zero
    assert np.allclose(bm[:, 2, 4], b[:, 3, 4] - b[:, 2, 4])
    assert np.array_equal(GenSkeFeat(feats=['b'])(data, rng), b)


def test_gen_ske_feat_channels_and_errors():
    pipe = Compose({'transform': [{'SkeletonNorm': None}, {'GenSkeFeat': {'feats': ['j', 'b', 'jm']}}]})
    assert pipe(clip(30), np.random.default_rng(0)).shape == (6, 100, 25, 1)
    assert pipe.in_channels(6) == 2 and Compose({'transform': ['SkeletonNorm']}).in_channels(3) == 3
    with pytest.raises(ConfigError, match="GenSkeFeat: unknown feats \\['v'\\]; known: j, b, jm, bm"):
        GenSkeFeat(feats=['j', 'v'])


def test_the_layout_travels_from_the_model_into_the_pipeline():
    """SkeletonNorm centres on the layout's centre joint (coco: 0, the nose), GenSkeFeat builds that layout's
    bones; a transform naming another layout than the model's is refused."""
    rng = np.random.default_rng(0)
    data = rng.uniform(-1, 1, (3, 6, 17, 1)).astype(np.float32)
    norm, feat = Compose({'transform': ['SkeletonNorm', {'GenSkeFeat': {'feats': ['b']}}]}, layout='coco').transforms
    np.testing.assert_allclose(norm(data, rng), data[:2] - data[:2, :, 0:1], atol=1e-6)
    np.testing.assert_array_equal(feat.parent, bone_parents('coco'))
    assert Compose({'transform': ['SkeletonNorm']}).transforms[0].center == 8
    with pytest.raises(ConfigError, match=r"^PIPELINE GenSkeFeat: layout 'fsd10' but the model's is 'coco' "):
        Compose({'transform': [{'GenSkeFeat': {'layout': 'fsd10'}}]}, layout='coco')


def test_drop_joints_zeroes_what_the_training_data_never_had():
    data = np.random.default_rng(1).uniform(0.1, 1, (3, 4, 25, 1)).astype(np.float32)
    out = DropJoints([20, 15, 20])(data, None)
    assert not out[:, :, [15, 20]].any()
    np.testing.assert_array_equal(np.delete(out, [15, 20], axis=2), np.delete(data, [15, 20], axis=2))
    with pytest.raises(ConfigError, match=r'^DropJoints: joints \[3, 25\] out of range for V=25 joints$'):
        DropJoints([3, 25])(data, None)


def test_pixel_coordinates_normalise_and_back():
    joints = np.array([[640, 360, 0.9], [0, 720, 1.0], [100, 50, 0.0]], dtype=np.float32)
    fsd = normalize_xy(joints, 1280, 720, 'fsd')
    np.testing.assert_allclose(fsd, [[0, 0, 0.9], [-0.5, 0.5, 1.0], [0, 0, 0]], atol=1e-7)
    unit = normalize_xy(joints, 1280, 720, 'unit')
    np.testing.assert_allclose(unit[:2, :2], [[0, 0], [-1, 1]], atol=1e-7)
    np.testing.assert_allclose(denormalize_xy(fsd, 1280, 720, 'fsd')[:2], joints[:2], atol=1e-4)
    with pytest.raises(ConfigError, match=r"^unknown coordinate normalisation 'pixels'; known: fsd, unit$"):
        normalize_xy(joints, 1280, 720, 'pixels')


def test_the_window_is_written_once_in_a_config():
    """Sampleframe takes the model's window (INFERENCE.window_size) when it names none; ours name it once."""
    pipe = Compose({'sample': {'name': 'Sampleframe'}, 'transform': [{'Sampleframe': {'window_size': 8}}]},
                   window=48)
    assert [t.window_size for t in pipe.transforms] == [48, 8]
    for name in ('stgcn_fsd', 'stgcn_fsd10', 'stgcn_demo', 'stgcn_penn_action'):
        text = (ROOT / 'configs' / 'recognition' / 'stgcn' / f'{name}.yaml').read_text()
        assert text.count('window_size') == 1, name
