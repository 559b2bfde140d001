"""OpenPose --write_json folders -> FSD-layout arrays: files written here in OpenPose's documented format (a frame
with nobody, a frame with two people, a missing frame file), the main-skater rule, the label CSV, value by value."""
import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT

from paddlevideo.inference.openpose import OpenPoseJSON, read_label_csv
from paddlevideo.inference.pose import MainSkater
from paddlevideo.utils.cli import run
from paddlevideo.utils.errors import DataError

W, H = 1280, 720


def person(x, y, size, conf, seen=range(15)):
    """(25, 3) a stick figure: joints on a vertical line from (x, y), `size` pixels tall, the given joints seen."""
    joints = np.zeros((25, 3), np.float32)
    for v in seen:
        joints[v] = (x + (v % 3) * size / 10, y + v * size / 25, conf)
    return joints


def write_frames(folder, name, frames):
    """OpenPose's per-frame files: {"version": 1.3, "people": [{"person_id": [-1], "pose_keypoints_2d": [...],
    "face_keypoints_2d": [], ...}]}, named <name>_<12-digit frame>_keypoints.json. None: no file for that frame."""
    folder.mkdir(parents=True)
    for t, people in enumerate(frames):
        if people is None:
            continue
        content = {'version': 1.3, 'people': [
            {'person_id': [-1], 'pose_keypoints_2d': [float(v) for v in p.ravel()], 'face_keypoints_2d': [],
             'hand_left_keypoints_2d': [], 'hand_right_keypoints_2d': [], 'pose_keypoints_3d': []} for p in people]}
        (folder / f'{name}_{t:012d}_keypoints.json').write_text(json.dumps(content))


SKATER = [person(600 + 4 * t, 300, 200, 0.6) for t in range(6)]
BYSTANDER = person(100, 100, 500, 0.95)  # larger and more confident, far from the skater
COACH = person(900, 200, 120, 0.5)


@pytest.fixture
def json_dirs(tmp_path):
    """jump1: 6 frames: skater; nobody; skater + a larger, more confident bystander; skater; no file; skater.
    spin2: 3 frames, two people from its first frame on (the larger, more confident one is the skater)."""
    jump = tmp_path / 'openpose' / 'jump1'
    write_frames(jump, 'jump1', [[SKATER[0]], [], [BYSTANDER, SKATER[2]], [SKATER[3]], None, [SKATER[5]]])
    spin = tmp_path / 'openpose' / 'spin2'
    write_frames(spin, 'spin2', [[COACH, SKATER[t]] for t in range(3)])
    csv = tmp_path / 'label.csv'
    csv.write_text('Axel,jump1,6,3\nSpin,spin2,3,7\nLutz,another_video,90,5\n')
    return jump, spin, csv


def fsd(joints):
    """x/W - 0.5, y/H - 0.5 where the confidence is above 0, written out by hand."""
    out = np.zeros_like(joints)
    seen = joints[:, 2] > 0
    out[seen] = np.column_stack([joints[seen, 0] / W - 0.5, joints[seen, 1] / H - 0.5, joints[seen, 2]])
    return out


def tool(argv, capfd):
    spec = importlib.util.spec_from_file_location('openpose_to_npy', ROOT / 'tools' / 'openpose_to_npy.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    capfd.readouterr()
    code = 0
    try:
        run(module.main, argv)
    except SystemExit as e:
        code = e.code
    out, err = capfd.readouterr()
    return code, out, err.splitlines()


def test_reader_yields_the_main_skater_in_pixels(json_dirs):
    jump, spin, _ = json_dirs
    source = OpenPoseJSON(str(jump))
    assert source.name == 'jump1' and len(source) == 6
    frames = list(source)
    assert all(f.shape == (25, 3) and f.dtype == np.float32 for f in frames)
    for t in (0, 2, 3, 5):
        np.testing.assert_array_equal(frames[t], SKATER[t])  # frame 2: tracked, the bystander ignored
    assert not frames[1].any() and not frames[4].any()
    spin_frames = OpenPoseJSON(str(spin)).joints()
    np.testing.assert_array_equal(spin_frames, np.stack(SKATER[:3]))  # the larger, more confident from frame 0


def test_main_skater_rule():
    skater = MainSkater()
    np.testing.assert_array_equal(skater(np.stack([COACH, SKATER[0]])), SKATER[0])  # larger, more confident
    # the skater moved away and a larger person stands where the skater was: overlap wins over size
    np.testing.assert_array_equal(skater(np.stack([BYSTANDER, person(605, 305, 195, 0.3)])),
                                  person(605, 305, 195, 0.3))
    # nobody overlaps the last box: the largest and most confident again
    np.testing.assert_array_equal(skater(np.stack([COACH, BYSTANDER])), BYSTANDER)
    assert not skater(np.zeros((0, 25, 3), np.float32)).any()


def test_tool_writes_data_and_labels_value_by_value(json_dirs, tmp_path, capfd):
    jump, spin, csv = json_dirs
    data_out, label_out = tmp_path / 'out' / 'data.npy', tmp_path / 'out' / 'label.npy'
    code, stdout, err = tool([str(jump), str(spin), '--frame-size', '1280x720', '-o', str(data_out),
                              '--labels', str(csv), '--label-out', str(label_out)], capfd)
    assert code == 0 and err == [], err
    assert '2 samples, shape (2, 3, 6, 25, 1)' in stdout
    data, labels = np.load(data_out), np.load(label_out)
    assert data.shape == (2, 3, 6, 25, 1) and data.dtype == np.float32
    assert labels.dtype == np.int64 and labels.tolist() == [3, 7]
    expected = np.zeros((2, 6, 25, 3), np.float32)
    for t in (0, 2, 3, 5):
        expected[0, t] = fsd(SKATER[t])
    for t in range(3):
        expected[1, t] = fsd(SKATER[t])  # spin2 ends at frame 2: zeros after it
    np.testing.assert_allclose(data[..., 0].transpose(0, 2, 3, 1), expected, atol=1e-7)
    assert (np.abs(data[:, :2]) <= 0.5).all()


def test_unit_norm_and_the_cli(json_dirs, tmp_path):
    jump, _, _ = json_dirs
    out = tmp_path / 'unit.npy'
    command = [sys.executable, str(ROOT / 'tools' / 'openpose_to_npy.py'), str(jump), '--frame-size', '1280x720',
               '-o', str(out), '--norm', 'unit']
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    data = np.load(out)
    seen = SKATER[3][:, 2] > 0
    np.testing.assert_allclose(data[0, 0, 3, seen, 0], 2 * SKATER[3][seen, 0] / W - 1, atol=1e-6)
    np.testing.assert_allclose(data[0, 1, 3, seen, 0], 2 * SKATER[3][seen, 1] / H - 1, atol=1e-6)
    assert not data[0, :, 3, ~seen].any()


def test_help_states_the_main_skater_rule(capsys):
    spec = importlib.util.spec_from_file_location('openpose_to_npy', ROOT / 'tools' / 'openpose_to_npy.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with pytest.raises(SystemExit):
        module.parse_args(['--help'])
    text = ' '.join(capsys.readouterr().out.split())
    assert 'overlaps the skater\'s box of the last frame most (IoU >= 0.3)' in text
    assert 'largest and most confident one (summed confidence x box diagonal)' in text


@pytest.mark.parametrize('case', ['no_row', 'bad_json', 'coco', 'not_a_folder', 'bad_label'])
def test_bad_input_is_one_line_and_writes_nothing(case, json_dirs, tmp_path, capfd):
    jump, spin, csv = json_dirs
    folders = [jump, spin]
    if case == 'no_row':
        csv.write_text('Axel,jump1,6,3\n')
        expected = (f"error: {csv}: no row for {spin} (its files are named spin2_...); expected a row "
                    f'"class,spin2,frames,label"')
    elif case == 'bad_json':
        bad = spin / 'spin2_000000000001_keypoints.json'
        bad.write_text('{"people": [')
        expected = f'error: {bad}: not a readable OpenPose JSON file ('
    elif case == 'coco':
        coco = spin / 'spin2_000000000001_keypoints.json'
        coco.write_text(json.dumps({'people': [{'pose_keypoints_2d': [1.0] * 54}]}))
        expected = (f'error: {coco}: expected pose_keypoints_2d of 75 numbers (BODY_25: x, y, confidence per joint), '
                    f'found 54 (run OpenPose with --model_pose BODY_25)')
    elif case == 'not_a_folder':
        folders = [jump, tmp_path / 'nowhere']
        expected = f'error: OpenPose JSON folder not found: {tmp_path / "nowhere"}'
    else:
        csv.write_text('Axel,jump1,6,3\nSpin,spin2,3,seven\n')
        expected = f'error: {csv}, line 2: expected an integer label, found "seven"'
    out = tmp_path / 'result'
    code, _, err = tool([*map(str, folders), '--frame-size', '1280x720', '-o', str(out / 'data.npy'), '--labels',
                         str(csv), '--label-out', str(out / 'label.npy')], capfd)
    assert code == 2 and len(err) == 1 and err[0].startswith(expected), err
    assert not out.exists() or not any(out.iterdir())  # no file, half-written or temporary


def test_label_csv_header_and_extensions(tmp_path):
    csv = tmp_path / 'labels.csv'
    csv.write_text('class,file name,frames,label\nAxel,jump1.mp4,,3\n\n')
    assert read_label_csv(str(csv)) == {'jump1.mp4': 3}
    csv.write_text('Axel,jump1,6,3\nAxel,jump1,6,4\n')
    with pytest.raises(DataError, match='line 2: file name "jump1" appears twice'):
        read_label_csv(str(csv))
