"""The FS-Jump3D jump model: the camera that renders 3D joints as FSD-format views, the pipeline that makes clips
look like video windows, cross-validation by group, class names in reports, and the shipped checkpoint."""
import json
import os

import numpy as np
import pytest
import yaml

from conftest import ROOT, SHARED, need
from paddlevideo.loader import build_dataset, class_names
from paddlevideo.loader.dataset3d import Skeleton3DDataset
from paddlevideo.skeleton.jumps import (clockwise, flight_frames, gliding_foot, jump_free_runs, run_in_turn,
                                       takeoff_foot)
from paddlevideo.loader.pipelines import BodyNorm, JumpWindow, RandomCamera, apex_frame, fsd_view, jump_apexes
from paddlevideo.loader.pipelines.camera import CENTRE_HEIGHT, FRAME, PX_PER_MM, project, resample
from paddlevideo.loader.synthetic import make_synthetic_skating
from paddlevideo.modeling import build_model
from paddlevideo.tasks.crossval import crossval, fold_splits, load_groups
from paddlevideo.tasks.test import test_model as run_test
from paddlevideo.utils.checkpoint import load_weights
from paddlevideo.utils.config import get_config
from paddlevideo.utils.errors import ConfigError, DataError

FSJ = SHARED / 'data' / 'fs_jump3d'
CONFIG = os.path.join(ROOT, 'configs/recognition/stgcn/stgcn_fsjump3d.yaml')
SHIPPED = os.path.join(ROOT, 'pretrained/stgcn_fsjump3d.pdparams')


@pytest.fixture(scope='module')
def fixed_labels(tmp_path_factory):
    """FS-Jump3D's labels with skater A's Salchow and Toeloop put right, as the config's comment makes them."""
    from tools.check_jump_labels import main as check_labels
    need(FSJ)
    out = tmp_path_factory.mktemp('labels') / 'train_label.npy'
    check_labels([str(FSJ / 'train_joints3d_60fps.npz'), '--groups', str(FSJ / 'train_skater.npy'), '--swap', '0',
                  'Salchow', 'Toeloop', '-o', str(out)])
    return str(out)


def skeleton(T=4):
    """(T, 25, 3) mm: every joint 1 m above the ice beside a MidHip that travels 100 mm along X and Y per frame;
    joint 0 is 1000 mm further along +X, joint 1 1000 mm further along +Y, joint 2 at 1900 mm height."""
    joints = np.zeros((T, 25, 3))
    joints[:, :, 2] = 1000.0
    joints[:, :, 0] = joints[:, :, 1] = 100.0 * np.arange(T)[:, None]
    joints[:, 0, 0] += 1000
    joints[:, 1, 1] += 1000
    joints[:, 2, 2] = 1900
    return joints


def test_side_view_camera_by_hand():
    """yaw 0: image x = world X minus the followed MidHip's, image y = 900 mm at the centre, 3400 mm = 90% of
    720 px; yaw 90 swaps the side view's depth (world Y) into x; pitch scales heights by cos(pitch)."""
    j = skeleton()
    px = project(j)
    assert PX_PER_MM == pytest.approx(648 / 3400)
    assert np.allclose(px[:, 0], [640 + 1000 * PX_PER_MM, 360 - 100 * PX_PER_MM])      # 1 m right of MidHip
    assert np.allclose(px[:, 1], [640, 360 - 100 * PX_PER_MM])                          # 1 m deeper: unseen
    assert np.allclose(px[:, 2], [640, 360 - (1900 - CENTRE_HEIGHT) * PX_PER_MM])
    turned = project(j, yaw=90)
    assert np.allclose(turned[:, 0, 0], 640) and np.allclose(turned[:, 1, 0], 640 + 1000 * PX_PER_MM)
    assert np.allclose(turned[..., 1], px[..., 1])                                      # heights unchanged
    tilted = project(j, pitch=30)
    assert np.allclose(tilted[:, 2, 1], 360 - np.cos(np.radians(30)) * 1000 * PX_PER_MM)
    # the deeper joint is 1000 mm further from a camera looking down 30 degrees: up in the image by sin(30)
    assert np.allclose(tilted[:, 1, 1], 360 - (np.cos(np.radians(30)) * 100 + np.sin(np.radians(30)) * 1000)
                       * PX_PER_MM)
    near = project(j, distance=5000)
    assert np.allclose(near[:, 0, 0], 640 + 1000 * PX_PER_MM)                           # at the followed depth
    assert np.allclose(near[:, 1, 1], 360 - 100 * PX_PER_MM * 5000 / 6000)              # 1 m further: 5/6 size
    rolled = project(j, roll=90)                                # image turned 90 degrees: right -> up, up -> left
    assert np.allclose(rolled[:, 0], [640 - 100 * PX_PER_MM, 360 - 1000 * PX_PER_MM])


def test_resampling_60_to_30_fps():
    j = np.arange(7, dtype=np.float64)[:, None, None] * np.ones((1, 25, 3))
    assert resample(j)[:, 0, 0].tolist() == [0, 2, 4, 6]
    assert resample(j, phase=1)[:, 0, 0].tolist() == [1, 3, 5]
    assert resample(j, step=2.5, phase=0.5)[:, 0, 0].tolist() == [0.5, 3.0, 5.5]


def test_fsd_view_layout_and_scale():
    view = fsd_view(skeleton(8))
    assert view.shape == (3, 4, 25, 1) and view.dtype == np.float32
    assert np.all(view[2] == 1)
    assert np.allclose(view[0, :, 0, 0], 1000 * PX_PER_MM / FRAME[0])               # x / W - 0.5
    assert np.allclose(view[1, :, 2, 0], -(1900 - CENTRE_HEIGHT) * PX_PER_MM / FRAME[1])


def test_side_view_reproduces_train_data():
    """FS-Jump3D's side view is this camera at yaw 0: every clip within 2e-7 (measured 1.2e-7)."""
    need(FSJ)
    data = np.load(FSJ / 'train_data.npy', mmap_mode='r')
    z = np.load(FSJ / 'train_joints3d_60fps.npz')
    for i in (0, 77, 189):
        view = fsd_view(z['joints'][i, :z['lengths'][i]])
        assert np.abs(view - data[i, :, :view.shape[1]]).max() < 2e-7
        assert not data[i, :, view.shape[1]:].any()


def test_random_camera_is_seeded():
    sample = np.ascontiguousarray(skeleton(40).transpose(2, 0, 1)[..., None])
    sample[2, :, 5] += np.linspace(0, 300, 40)[:, None]                  # something that moves
    camera = RandomCamera()
    a = camera(sample, np.random.default_rng([0, 1, 7]))
    b = camera(sample, np.random.default_rng([0, 1, 7]))
    c = camera(sample, np.random.default_rng([0, 2, 7]))
    n = min(a.shape[1], c.shape[1])                                          # the speed is drawn too
    assert np.array_equal(a, b) and not np.allclose(a[:2, :n], c[:2, :n])
    assert a.shape[0] == 3 and a.shape[2:] == (25, 1) and 16 <= a.shape[1] <= 23 and np.all(a[2] == 1)
    assert np.abs(a[:2]).max() < 1                                           # about [-0.5, 0.5]: FSD's scale


def test_3d_dataset_draws_a_new_view_per_epoch(tmp_path):
    joints = np.repeat(skeleton(30)[None], 3, 0).astype(np.float32)
    joints[:, :, 4, 1] += 200                                                  # a joint off the plane
    np.savez(tmp_path / 'j.npz', joints=joints, lengths=np.array([30, 20, 10]), labels=np.array([0, 1, 2]))
    ds = Skeleton3DDataset(str(tmp_path / 'j.npz'), RandomCamera(), joints=25, num_classes=3, seed=3)
    assert ds.raw(1).shape == (3, 20, 25, 1) and ds[2][1] == 2
    first = ds[0][0]
    assert np.array_equal(first, ds[0][0])
    ds.set_epoch(1)
    second = ds[0][0]
    n = min(first.shape[1], second.shape[1])
    assert not np.allclose(first[:, :n], second[:, :n])
    np.savez(tmp_path / 'bad.npz', joints=joints)
    with pytest.raises(DataError, match=r"bad.npz: expected arrays 'joints' \(N, T, V, 3\) and 'lengths'"):
        Skeleton3DDataset(str(tmp_path / 'bad.npz'), None)


def two_jumps(T=300):
    """(T, 25, 3) mm: skating at 900 mm hip height, two flights (frames 100-119 and 200-219) up to 1400 mm."""
    joints = skeleton(T)
    joints[:, 8, 2] = 900.0
    for a in (100, 200):
        joints[a:a + 20, 8, 2] += 500 * np.sin(np.linspace(0.05, np.pi - 0.05, 20))
    return joints


def test_jump_free_runs_keep_clear_of_every_flight():
    joints = two_jumps()
    flight = np.flatnonzero(flight_frames(joints))
    assert 100 < flight.min() and flight.max() < 219 and not flight_frames(joints)[120:200].any()
    first, last = flight[flight < 150], flight[flight > 150]
    want = [(0, first.min() - 10), (first.max() + 11, last.min() - 10), (last.max() + 11, 300)]
    assert jump_free_runs(joints, margin=10, min_frames=40) == [w for w in want if w[1] - w[0] >= 40]
    assert jump_free_runs(joints, margin=10, min_frames=90) == [(0, first.min() - 10)]


def turning_jump(foot='left', turn=1.0, T=120, apex=80):
    """(T, 25, 3) mm: hips 300 mm apart turning `turn` x 2 pi over a flight around `apex`, the `foot` ankle on
    the ice (50 mm) and the other one 300 mm up before it."""
    joints = skeleton(T)
    joints[:, 8, 2] = 900.0
    joints[apex - 10:apex + 10, 8, 2] += 500 * np.sin(np.linspace(0.05, np.pi - 0.05, 20))
    angle = turn * 2 * np.pi * np.clip((np.arange(T) - apex + 10) / 20, 0, 1)
    for joint, side in ((12, 1), (9, -1)):                                    # LHip, RHip
        joints[:, joint, 0] = joints[:, 8, 0] + side * 150 * np.cos(angle)
        joints[:, joint, 1] = joints[:, 8, 1] + side * 150 * np.sin(angle)
    glide, free = (14, 11) if foot == 'left' else (11, 14)                    # LAnkle, RAnkle
    joints[:, glide, 2], joints[:, free, 2] = 50.0, 350.0
    return joints


def test_the_gliding_foot_and_the_turn_of_a_jump():
    assert gliding_foot(turning_jump('left'))[0] == 'left' and gliding_foot(turning_jump('right'))[0] == 'right'
    assert gliding_foot(turning_jump('left'))[1] == pytest.approx(300)
    assert not clockwise(turning_jump(turn=1.5)) and clockwise(turning_jump(turn=-1.5))
    flat = turning_jump(turn=-1.5)
    flat[:, 8, 2] = 900.0                                                      # no flight: the whole clip's turn
    assert clockwise(flat) and not flight_frames(flat).any()
    assert [takeoff_foot(n) for n in ('Axel', 'Toe loop', 'toe-loop', 'Loop', 'Lutz', 'Comb')] == \
        ['left', 'right', 'right', 'right', 'left', None]
    assert takeoff_foot('Salchow', clockwise=True) == 'right' and takeoff_foot('Comb', clockwise=True) is None


def test_run_in_turn():
    joints = turning_jump(T=200, apex=150)                                    # turns in the air only
    assert run_in_turn(joints) == pytest.approx(0, abs=1e-6)
    angle = np.pi * np.clip((np.arange(200) - 80) / 20, 0, 1)                # a half turn 1.2-0.9 s before the apex
    joints[:, 12, :2] = joints[:, 8, :2] + 150 * np.stack([np.cos(angle), np.sin(angle)], 1)
    joints[:, 9, :2] = joints[:, 8, :2] - 150 * np.stack([np.cos(angle), np.sin(angle)], 1)
    assert run_in_turn(joints) == pytest.approx(180)
    assert run_in_turn(joints[60:]) is None                                   # 1.5 s of run-in not recorded


def test_a_flip_turns_in_its_run_in_and_a_lutz_does_not():
    """FS-Jump3D, every skater: between 1.5 and 0.5 s before the apex a Flip's hips turn 142-186 degrees and a
    Lutz's 4-45 (measured): what tells them apart happens before the last 0.87 s a 48-frame window held with the
    apex at 55%; the config's 64-frame window, the apex at 70%, holds 1.5 s."""
    need(FSJ)
    data = np.load(FSJ / 'train_joints3d_60fps.npz')
    labels = np.load(FSJ / 'train_label.npy')
    turns = {c: [run_in_turn(data['joints'][i, :data['lengths'][i]]) for i in np.flatnonzero(labels == c)]
             for c in (1, 3)}                                                 # Flip, Lutz (not swapped in A)
    flip, lutz = ([t for t in turns[c] if t is not None] for c in (1, 3))
    assert len(flip) == 29 and len(lutz) == 30
    assert min(flip) > 140 and max(lutz) < 46


def test_label_check_finds_skater_a_salchow_and_toeloop_exchanged(tmp_path, capsys):
    """FS-Jump3D as published: skater A's 10 'Salchow' glide into the takeoff on the right foot (a Toeloop's)
    and its 10 'Toeloop' on the left (a Salchow's), where skaters B and C and every other class of A follow the
    rules; exchanging the two classes for skater A puts every pair right, changing 20 labels and no other."""
    from tools.check_jump_labels import main as check_labels
    need(FSJ)
    out = tmp_path / 'labels.npy'
    args = [str(FSJ / 'train_joints3d_60fps.npz'), '--groups', str(FSJ / 'train_skater.npy')]
    check_labels(args)
    text = capsys.readouterr().out
    assert '190 clips, 0 turning clockwise' in text and text.rstrip().endswith(
        '2 of 18 (group, class) pairs disagree with the takeoff-foot rule: group 0 Salchow (1/10), group 0 Toeloop '
        '(0/10)')
    check_labels(args + ['--swap', '0', 'Salchow', 'Toeloop', '-o', str(out)])
    assert '0 of 18 (group, class) pairs disagree' in capsys.readouterr().out
    published, fixed = np.load(FSJ / 'train_label.npy'), np.load(out)
    skater = np.load(FSJ / 'train_skater.npy')
    changed = np.flatnonzero(published != fixed)
    assert len(changed) == 20 and (skater[changed] == 0).all() and set(published[changed]) == {4, 5}
    assert (fixed[changed] == 9 - published[changed]).all()
    with pytest.raises(ConfigError, match=r'^--swap writes new labels: give -o/--output$'):
        check_labels(args + ['--swap', '0', 'Salchow', 'Toeloop'])
    with pytest.raises(ConfigError, match=r"^--swap 0 Salchow Toe: expected a group of \[0, 1, 2\] and two class"):
        check_labels(args + ['--swap', '0', 'Salchow', 'Toe', '-o', str(out)])


def test_background_samples_come_from_jump_free_frames(tmp_path):
    """Clip 0 has two jumps, clip 1 none (all of it is a run), clip 2 is too short: background samples are
    cut from clips 0 and 1 only, `min_frames` long, label 3, a different run each epoch; `indices` (a fold)
    limits them to its clips."""
    joints = np.stack([two_jumps(), skeleton(300), two_jumps()]).astype(np.float32)
    joints[1, :, 8, 2] = 900
    joints[:, :, 3, 0] = np.arange(300)                  # frame index, to find where a sample was cut
    np.savez(tmp_path / 'j.npz', joints=joints, lengths=np.array([300, 300, 40]), labels=np.array([0, 1, 2]))
    background = {'label': 3, 'fraction': 1.0, 'margin': 10, 'min_frames': 50}
    ds = Skeleton3DDataset(str(tmp_path / 'j.npz'), lambda clip, rng: clip, num_classes=4, background=background)
    assert len(ds) == 3 + 2 and ds.background_count == 2
    seen = set()
    for epoch in range(6):
        ds.set_epoch(epoch)
        for i in (3, 4):
            clip, label = ds[i]
            frames = clip[0, :, 3, 0]
            assert label == 3 and clip.shape == (3, 50, 25, 1) and np.array_equal(frames, frames[0] + np.arange(50))
            run = [r for r in ds.runs if r[1] <= frames[0] and frames[-1] < r[2]]
            assert run and not flight_frames(joints[run[0][0]])[int(frames[0]):int(frames[-1]) + 1].any()
            seen.add(run[0])
    assert seen == set(ds.runs) and {j for j, _, _ in ds.runs} == {0, 1}
    fold = Skeleton3DDataset(str(tmp_path / 'j.npz'), None, num_classes=4, background=background, indices=[1, 2])
    assert {j for j, _, _ in fold.runs} == {1} and len(fold) == 3
    with pytest.raises(DataError, match=r"j.npz: background expects \{label: 0..3, fraction, margin, min_frames\}"):
        Skeleton3DDataset(str(tmp_path / 'j.npz'), None, num_classes=4, background={'label': 4})
    with pytest.raises(ConfigError, match=r"^background.fraction: expected a number >= 0, got 'half'"):
        Skeleton3DDataset(str(tmp_path / 'j.npz'), None, num_classes=4, background={'label': 3, 'fraction': 'half'})


def test_a_background_needs_its_class_named_once(tmp_path, fixed_labels):
    cfg = get_config(CONFIG, [f'output_dir={tmp_path}', f'DATASET.train.label_path={fixed_labels}'])
    assert build_dataset(cfg, 'train').background == 7 == cfg.INFERENCE.background_class
    del cfg.INFERENCE['background_class']
    with pytest.raises(ConfigError, match=r'^DATASET.train.background needs INFERENCE.background_class'):
        build_dataset(cfg, 'train')


def hip_clip(hip_y):
    """An FSD-format clip whose MidHip has image height `hip_y` (y down) frame by frame and whose joint 3 holds the
    frame's index in x, to find which frames a window took."""
    data = np.zeros((3, len(hip_y), 25, 1), np.float32)
    data[:2] = 0.1
    data[1, :, 8, 0] = hip_y
    data[0, :, 3, 0] = np.arange(len(hip_y))
    return data


def test_jump_window_places_the_apex():
    T, apex = 150, 70
    data = hip_clip(0.2 + 0.001 * (np.arange(T) - apex) ** 2)                # MidHip highest at frame 70
    assert apex_frame(data) == apex
    out = JumpWindow(48, apex=0.5)(data, np.random.default_rng(0))
    assert out.shape == (3, 48, 25, 1) and out[0, 24, 3, 0] == apex
    late = JumpWindow(48, apex=[0.3, 0.8])
    starts = {int(late(data, np.random.default_rng(s))[0, 0, 3, 0]) for s in range(20)}
    assert len(starts) > 5 and all(apex - 0.8 * 48 - 1 <= s <= apex - 0.3 * 48 + 1 for s in starts)
    early = JumpWindow(48, apex=0.5)(data[:, 60:], None)                      # apex at frame 10: moved in
    assert early[0, 0, 3, 0] == 60 and early[0, 47, 3, 0] == 107
    short = data[:, :40]                                                       # a video window: unchanged
    assert np.array_equal(JumpWindow(48)(short, None)[:, :40], short) and not JumpWindow(48)(short, None)[:, 40:].any()


def test_jump_window_clips_spread_the_apex_over_the_range():
    T, apex = 150, 70
    data = hip_clip(0.2 + 0.001 * (np.arange(T) - apex) ** 2)
    clips = JumpWindow(48, apex=[0.25, 0.75], num_clips=3)(data, None)
    assert clips.shape == (3, 3, 48, 25, 1)
    assert [int(c[0, 0, 3, 0]) for c in clips] == [apex - 12, apex - 24, apex - 36]   # apex at 12, 24, 36 of 48
    for where, clip in zip([0.25, 0.5, 0.75], clips):                                  # each one window as alone
        assert np.array_equal(clip, JumpWindow(48, apex=where)(data, None))
    short = data[:, :40]
    alone = JumpWindow(48)(short, None)
    assert all(np.array_equal(c, alone) for c in JumpWindow(48, [0.3, 0.8], num_clips=4)(short, None))
    with pytest.raises(ConfigError, match=r"JumpWindow: num_clips 3 needs apex as a \[low, high\] range .* got 0.5"):
        JumpWindow(48, apex=0.5, num_clips=3)
    with pytest.raises(ConfigError, match=r"JumpWindow.num_clips: expected an integer >= 1, got 0"):
        JumpWindow(48, apex=[0.3, 0.8], num_clips=0)


def test_combination_window_is_placed_between_its_jumps():
    t = np.arange(160)
    rise = 0.2 * np.exp(-((t - 50) / 6) ** 2) + 0.15 * np.exp(-((t - 100) / 6) ** 2)   # two jumps, the 2nd lower
    rise[:5] = 0.17                                                                     # standing up at the start
    data = hip_clip(0.3 - rise)
    assert apex_frame(data) == 50
    assert jump_apexes(data, 0.6) == [50, 100] and jump_apexes(data, 0.8) == [50]      # 0.15 / 0.2 of the way
    assert int(JumpWindow(48, apex=0.5, combination_rise=0.6)(data, None)[0, 24, 3, 0]) == 75
    assert int(JumpWindow(48, apex=0.5, combination_rise=0.8)(data, None)[0, 24, 3, 0]) == 50
    assert np.array_equal(JumpWindow(48, apex=0.5, combination_rise=0.6)(data[:, :80], None),      # one jump:
                          JumpWindow(48, apex=0.5)(data[:, :80], None))                           # its apex
    with pytest.raises(ConfigError, match=r'JumpWindow.combination_rise: expected a number > 0 and <= 1, got 0'):
        JumpWindow(48, combination_rise=0)


def test_fsjump3d_combinations_show_two_jumps():
    """On FS-Jump3D's side view the hip rises twice (at least 0.6 of the way) in 9 of the 10 combinations and in 8
    of the 180 single jumps (a second high of the run-in or landing)."""
    need(FSJ)
    fsj, labels = np.load(FSJ / 'train_data.npy', mmap_mode='r'), np.load(FSJ / 'train_label.npy')
    twice = np.array([len(jump_apexes(np.asarray(clip), 0.6)) > 1 for clip in fsj])
    assert twice[labels == 6].sum() == 9 and twice[labels != 6].sum() == 8


def test_body_norm_ignores_position_and_size():
    rng = np.random.default_rng(0)
    data = np.zeros((3, 20, 25, 1), np.float32)
    data[:2] = rng.uniform(-0.2, 0.2, (2, 20, 25, 1))
    data[2] = 1
    data[:2, :, 20] = 0                                                        # a missing joint
    moved = data.copy()
    moved[:2] = np.where(data[:2] != 0, data[:2] * 0.5 + np.array([0.1, -0.2])[:, None, None, None], 0)
    a, b = BodyNorm()(data, None), BodyNorm()(moved, None)
    assert a.shape == (2, 20, 25, 1) and np.allclose(a, b, atol=1e-5)
    assert not a[:, :, 20].any() and np.allclose(a[0, :, 8], 0)               # x centred on MidHip per frame
    torso = np.linalg.norm(a[:, :, 1] - a[:, :, 8], axis=0)
    assert np.median(torso) == pytest.approx(1, abs=1e-6)


def test_folds_partition_the_samples_by_group():
    groups = np.array([3, 1, 1, 2, 3, 3, 2, 5, 5, 1])
    for folds in (None, 2, 3):
        splits = fold_splits(groups, folds)
        assert len(splits) == (4 if folds is None else folds)
        tests = np.concatenate([test for _, _, test in splits])
        assert sorted(tests) == list(range(len(groups)))                      # every sample tested once
        for held, train, test in splits:
            assert set(groups[test]) == set(held) and not set(groups[train]) & set(groups[test])
            assert sorted(np.concatenate([train, test])) == list(range(len(groups)))


@pytest.mark.parametrize('groups, message', [
    (np.array([0, 1, 0]), '{}: 3 groups for 12 training samples'),
    (np.arange(12) % 3 + 0.0, '{}: expected a 1-d integer array (one group per training sample), found shape '
                               '(12,) float64'),
    (np.zeros(12, np.int64), '{}: a single group (0); cross-validation by group needs at least two'),
])
def test_bad_groups_file_is_one_line(tmp_path, capsys, groups, message):
    from main import main
    from paddlevideo.utils.cli import run
    cfg = tiny_config(tmp_path)
    path = str(tmp_path / 'groups.npy')
    np.save(path, groups)
    with pytest.raises(SystemExit) as e:
        run(main, ['-c', cfg, '--crossval', path])
    assert e.value.code == 2
    assert capsys.readouterr().err == f'error: {message.format(path)}\n'
    with pytest.raises(DataError, match='groups file not found'):
        load_groups(str(tmp_path / 'none.npy'), 12)


def tiny_config(tmp_path, names=('jump', 'spin', 'step', 'spiral', 'cross')):
    """Twelve synthetic FSD-format clips of five classes, a 16-frame window, one epoch."""
    data, labels, _ = make_synthetic_skating(3, seed=0, max_frames=40, min_len=20, max_len=40)
    data, labels = data[:12], labels[:12]
    np.save(tmp_path / 'x.npy', data)
    np.save(tmp_path / 'y.npy', labels)
    np.save(tmp_path / 'groups.npy', np.arange(12) % 3)
    split = {'format': 'SkeletonDataset', 'file_path': str(tmp_path / 'x.npy'), 'label_path': str(tmp_path / 'y.npy')}
    pipe = {'sample': {'name': 'Sampleframe', 'window_size': 16}, 'transform': [{'BodyNorm': None}]}
    cfg = {'MODEL': {'framework': 'RecognizerGCN', 'backbone': {'name': 'STGCN', 'graph': 'learnable'},
                     'head': {'name': 'STGCNHead', 'num_classes': 5}},
           'DATASET': {'batch_size': 4, 'test_batch_size': 8, 'train': split, 'test': split},
           'PIPELINE': {'train': pipe, 'test': pipe},
           'OPTIMIZER': {'name': 'Momentum', 'momentum': 0.9, 'learning_rate': 0.01},
           'CROSSVAL': {'groups': str(tmp_path / 'groups.npy')},
           'INFERENCE': {'class_names': list(names)},
           'model_name': 'tiny', 'epochs': 1, 'output_dir': str(tmp_path / 'out')}
    (tmp_path / 'cfg.yaml').write_text(yaml.safe_dump(cfg))
    return str(tmp_path / 'cfg.yaml')


def test_crossval_summary_comes_from_the_folds(tmp_path):
    cfg = get_config(tiny_config(tmp_path))
    result = crossval(cfg)
    out = tmp_path / 'out'
    assert json.loads((out / 'crossval_summary.json').read_text()) == json.loads(json.dumps(result))
    folds = result['folds']
    assert [f['test_groups'] for f in folds] == [[0], [1], [2]]
    assert all(f['train_samples'] == 8 and f['test_samples'] == 4 for f in folds)
    top1 = [f['views']['train']['top1'] for f in folds]
    summary = result['summary']['train']['top1']
    assert summary['mean'] == pytest.approx(np.mean(top1)) and summary['std'] == pytest.approx(np.std(top1, ddof=1))
    assert summary['min'] == min(top1) and summary['max'] == max(top1)
    pooled = np.loadtxt(out / 'pooled' / 'train' / 'confusion_matrix.csv', delimiter=',', skiprows=1,
                        usecols=range(1, 6))
    assert pooled.sum() == 12
    assert result['summary']['train']['pooled_top1'] == pytest.approx(np.trace(pooled) / 12)
    assert result['summary']['train']['pooled_top1'] == pytest.approx(np.mean(top1))      # equal-sized folds
    assert all((out / f'fold_{k}' / 'train' / 'confusion_matrix.csv').is_file() for k in range(3))
    dump = np.load(out / 'pooled' / 'train' / 'logits.npz')  # held-out samples fold by fold: groups 0, 1, 2
    np.testing.assert_array_equal(dump['labels'], np.load(tmp_path / 'y.npy')[np.r_[0:12:3, 1:12:3, 2:12:3]])
    assert dump['logits'].shape == (12, 5)
    assert np.mean(dump['logits'].argmax(1) == dump['labels']) == pytest.approx(np.trace(pooled) / 12)
    assert 'train: top1' in (out / 'crossval_summary.txt').read_text()


def test_class_names_reach_the_test_report(tmp_path):
    from paddlevideo.tasks.train import train_model
    cfg = get_config(tiny_config(tmp_path, names=('Axel', 'Flip', 'Loop', 'Lutz', 'Salchow')))
    train_model(cfg)
    report = run_test(cfg, str(tmp_path / 'out' / 'tiny_epoch_00001.pdparams'))
    assert report is not None
    header = (tmp_path / 'out' / 'confusion_matrix.csv').read_text().splitlines()[0]
    assert header == 'true\\pred,Axel,Flip,Loop,Lutz,Salchow'
    assert '  3 Lutz ' in (tmp_path / 'out' / 'train.log').read_text()


def test_shipped_model_names_real_jumps(tmp_path, fixed_labels):
    """The shipped checkpoint fits the config's model and names FS-Jump3D's side-view clips far above chance
    (1/7): on every second clip (95, to keep the test short) measured 97.9% top-1, 96.2% mean class accuracy
    (98.9% / 98.1% over all 190, never 'No jump'). It saw every skater in training (through random cameras, not
    this view), so this is a sanity check, not the accuracy claim: that is the leave-one-skater-out
    cross-validation in docs/skating_model.md."""
    cfg = get_config(CONFIG, [f'output_dir={tmp_path}'])
    assert class_names(cfg) == ['Axel', 'Flip', 'Loop', 'Lutz', 'Salchow', 'Toeloop', 'Comb', 'No jump']
    load_weights(build_model(cfg.MODEL), SHIPPED)
    need(FSJ)
    np.save(tmp_path / 'x.npy', np.load(FSJ / 'train_data.npy', mmap_mode='r')[::2])
    np.save(tmp_path / 'y.npy', np.load(fixed_labels)[::2])
    cfg.DATASET.test.file_path, cfg.DATASET.test.label_path = str(tmp_path / 'x.npy'), str(tmp_path / 'y.npy')
    assert len(build_dataset(cfg, 'test')) == 95
    report = run_test(cfg, SHIPPED)
    assert report['top1'] > 0.85 and report['mean_class_accuracy'] > 0.8


def test_crossval_test_scores_the_runs_folds_again(tmp_path, capsys):
    """--crossval --test -w RUN_DIR: the folds' last checkpoints through the test pipeline again, nothing trained;
    the same pipeline gives the run's own held-out logits, and the results go to another folder."""
    from main import main
    from paddlevideo.utils.cli import run
    config = tiny_config(tmp_path)
    result = crossval(get_config(config))
    run_dir, again = tmp_path / 'out', tmp_path / 'again'
    mtime = (run_dir / 'crossval_summary.json').stat().st_mtime_ns
    run(main, ['-c', config, '--crossval', '--test', '-w', str(run_dir), '-o', f'output_dir={again}'])
    first, second = np.load(run_dir / 'pooled/train/logits.npz'), np.load(again / 'pooled/train/logits.npz')
    np.testing.assert_array_equal(second['labels'], first['labels'])
    np.testing.assert_allclose(second['logits'], first['logits'], rtol=1e-5, atol=1e-6)
    retest = json.loads((again / 'crossval_summary.json').read_text())
    assert retest['summary'] == json.loads(json.dumps(result['summary']))
    assert [f['weights'] for f in retest['folds']] == [str(run_dir / f'fold_{k}' / 'tiny_epoch_00001.pdparams')
                                                       for k in range(3)]
    assert 'tested ' in (again / 'crossval_summary.txt').read_text()
    assert not list(again.glob('fold_*/*.pdparams'))                                   # nothing trained
    assert (run_dir / 'crossval_summary.json').stat().st_mtime_ns == mtime               # the run's own kept
    capsys.readouterr()
    for argv, message in [
        (['-w', str(run_dir), '-o', f'output_dir={run_dir}'],
         f'--crossval --test: output_dir is the run tested ({run_dir}); write the new results elsewhere '
         f"(-o output_dir=...), so the run's own summary is kept"),
        (['-w', str(run_dir / 'fold_0' / 'tiny_epoch_00001.pdparams')],
         f'--crossval --test tests the folds of a cross-validation run: -w its output_dir (a folder holding '
         f'fold_0, fold_1, ...), got {run_dir / "fold_0" / "tiny_epoch_00001.pdparams"}'),
        (['-w', str(run_dir), '-o', 'epochs=2', '-o', f'output_dir={again}'],
         f'{run_dir / "fold_0" / "tiny_epoch_00002.pdparams"}: not found: --crossval --test -w {run_dir} tests the '
         f'last epoch of every fold of a finished cross-validation run of this config'),
    ]:
        with pytest.raises(SystemExit) as e:
            run(main, ['-c', config, '--crossval', '--test'] + argv)
        assert e.value.code == 2 and capsys.readouterr().err == f'error: {message}\n'
