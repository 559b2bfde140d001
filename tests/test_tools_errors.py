"""Every tool refuses bad input in one line with exit code 2, before any work and writing nothing: output paths
(a folder where a file goes, a file where a folder goes, a folder that cannot be written), flags (not a number,
out of range, not finite), input files (a folder, a file of another kind, no samples); and Paddle Inference's own
notes never reach the user.

The tools run in this process as their __main__ runs them (paddlevideo.utils.cli.run), captured at fd level.
"""
import argparse
import ctypes
import importlib
import os
import sys

import numpy as np
import pytest

from conftest import ROOT

from paddlevideo.inference.predictor import PADDLE_INFERENCE_NOISE, _NativeStdout
from paddlevideo.utils.cli import ArgumentParser, bounded, run
from paddlevideo.utils.errors import DataError
from paddlevideo.utils.fileio import check_input_file, check_output_file, check_output_folder

CONFIG = ROOT / 'configs' / 'recognition' / 'stgcn' / 'stgcn_fsd.yaml'


def tool(name, argv, capfd):
    """tools/<name>.py run on argv -> (exit code, stdout, stderr lines)."""
    main = importlib.import_module(f'tools.{name}').main
    capfd.readouterr()
    code, argv0 = 0, sys.argv[0]
    sys.argv[0] = str(ROOT / 'tools' / f'{name}.py')   # argparse's prog
    try:
        run(main, [str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    finally:
        sys.argv[0] = argv0
    out, err = capfd.readouterr()
    return code, out, err.splitlines()


def tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob('*'))


@pytest.fixture
def places(tmp_path):
    """(a folder, a file) in an otherwise empty tmp_path."""
    (tmp_path / 'folder').mkdir()
    (tmp_path / 'file').write_text('x')
    return tmp_path / 'folder', tmp_path / 'file'


# (tool, arguments before the bad output path, the output flag, what the flag names: a file or a folder)
OUTPUTS = [
    ('demo_video', ['clip.mp4', '--model', 'm.json'], '-o', 'file'),
    ('demo_video', ['clip.mp4', '--model', 'm.json'], '--timeline', 'file'),
    ('video_to_skeleton', ['clip.mp4'], '-o', 'file'),
    ('openpose_to_npy', ['json_dir', '--frame-size', '1280x720'], '-o', 'file'),
    ('fuse_scores', ['a.npz'], '--out', 'file'),
    ('fuse_scores', ['a.npz'], '--confusion', 'folder'),
    ('render_views', ['joints.npz'], '-o', 'folder'),
    ('export_model', ['-c', CONFIG, '-p', 'w.pdparams'], '-o', 'folder'),
    ('plot_training', ['train.log'], '-o', 'file'),
    ('make_synthetic_data', [], '--out', 'folder'),
]
SPELLED = {'-o': {'export_model': '-o/--output_path'}}


@pytest.mark.parametrize('name, before, flag, kind', OUTPUTS, ids=[f'{o[0]} {o[2]}' for o in OUTPUTS])
def test_an_output_path_that_cannot_be_written_is_one_line_and_nothing_is_written(name, before, flag, kind, places,
                                                                                    capfd):
    folder, file = places
    spelled = SPELLED.get(flag, {}).get(name, '-o/--output' if flag == '-o' else flag)
    wrong, wrong_line = ((folder, f'{spelled} {folder} is a folder; expected a file name') if kind == 'file' else
                         (file, f'{spelled} {file} is a file; expected a folder'))
    under = file / 'x' / 'out.npy'
    for path, line in ((wrong, wrong_line), (under, f'{spelled} {under}: {file} is a file, not a folder')):
        before_tree = tree(folder.parent)
        code, out, err = tool(name, [*before, flag, path], capfd)
        assert (code, err) == (2, [f'error: {line}']), err
        assert out == '' and tree(folder.parent) == before_tree


def test_the_files_beside_a_timeline_are_checked_too(places, capfd):
    folder, _ = places
    (folder / 'timeline.png').mkdir()
    code, _, err = tool('demo_video', ['clip.mp4', '--model', 'm.json', '--timeline', folder / 'timeline.json'], capfd)
    assert (code, err) == (2, [f'error: --timeline {folder / "timeline.png"} is a folder; expected a file name'])
    code, _, err = tool('demo_video', ['clip.mp4', '--model', 'm.json', '-o', folder / 'a.gif'], capfd)
    assert (code, err) == (2, [f'error: -o/--output {folder / "a.gif"}: cannot write this kind of video; known: '
                               f'.mp4, .m4v, .mov, .avi, .mkv'])


def test_an_export_is_refused_whole_when_one_of_its_files_cannot_be_written(places, capfd):
    """STGCN.json a folder: the old check came after STGCN.pdiparams and the contract had been replaced."""
    folder, _ = places
    (folder / 'STGCN.json').mkdir()
    code, _, err = tool('export_model', ['-c', CONFIG, '-p', 'w.pdparams', '-o', folder], capfd)
    assert (code, err) == (2, [f'error: -o/--output_path {folder / "STGCN.json"} is a folder; expected a file name'])
    assert tree(folder) == ['STGCN.json']


def test_two_outputs_on_one_path_are_refused(tmp_path, capfd):
    same = tmp_path / 'same.npy'
    code, _, err = tool('openpose_to_npy', ['json_dir', '--frame-size', '1280x720', '-o', same, '--labels', 'l.csv',
                                            '--label-out', same], capfd)
    assert (code, err) == (2, [f'error: --label-out {same} is also -o/--output: the labels would replace the data'])
    code, _, err = tool('demo_video', ['clip.mp4', '--model', 'm.json', '-o', tmp_path / 't.mp4', '--timeline',
                                       tmp_path / 't.mp4'], capfd)
    assert (code, err) == (2, [f'error: -o/--output {tmp_path / "t.mp4"} is also a file --timeline '
                               f'{tmp_path / "t.mp4"} writes'])
    assert tree(tmp_path) == []


def test_an_output_that_is_an_input_of_the_run_is_refused(tmp_path, capfd):
    """video_to_skeleton clip.mp4 -o clip.mp4 would have replaced the video with its skeleton."""
    source = tmp_path / 'source.npy'
    source.write_bytes(b'precious')
    for name, argv, flag in (('video_to_skeleton', [source, '-o', source], '-o/--output'),
                             ('predict', ['-i', tmp_path, '--model_file', 'm.json', '--output', source], '--output'),
                             ('fuse_scores', ['other.npz', source, '--out', source], '--out'),
                             ('plot_training', [source, '-o', source], '-o/--output'),
                             ('demo_video', ['v.mp4', '--model', source, '--timeline', source], '--timeline')):
        code, out, err = tool(name, argv, capfd)
        assert (code, out, err) == (2, '', [f'error: {flag} {source} is also an input of this run ({source}): writing '
                                            f'it would destroy it']), name
        assert source.read_bytes() == b'precious'


def test_output_checks(places, monkeypatch):
    folder, file = places
    check_output_file(folder / 'new' / 'deeper' / 'out.npy')       # missing folders are created when written
    check_output_folder(folder / 'new')
    with pytest.raises(DataError, match=r'^-o is empty; expected a file name$'):
        check_output_file('', '-o')
    with pytest.raises(DataError, match=f'^-o {folder / "new"}/ is a folder; expected a file name$'):
        check_output_file(f'{folder / "new"}/', '-o')
    monkeypatch.setattr(os, 'access', lambda path, mode: path != str(folder))   # root cannot be refused for real
    with pytest.raises(DataError, match=f'^-o {folder / "a" / "b.npy"}: the folder {folder} is not writable$'):
        check_output_file(folder / 'a' / 'b.npy', '-o')
    with pytest.raises(DataError, match=f'^--out {folder}: the folder {folder} is not writable$'):
        check_output_folder(folder, '--out')


def test_input_file_check(places):
    folder, file = places
    check_input_file(file)
    with pytest.raises(DataError, match=f'^{folder} is a folder; expected a video$'):
        check_input_file(folder, 'video')
    with pytest.raises(DataError, match=f'^video not found: {folder / "x.mp4"}$'):
        check_input_file(folder / 'x.mp4', 'video')


# (tool, arguments, the one line): flags that are not numbers, out of range or not finite, and unknown flags
FLAGS = [
    ('demo_video', ['v.mp4', '--timeline', 't.json', '--stride', 'x'],
     "argument --stride: expected an integer >= 1, got 'x'"),
    ('demo_video', ['v.mp4', '--timeline', 't.json', '--pose-every', '-2'],
     "argument --pose-every: expected an integer >= 1, got '-2'"),
    ('demo_video', ['v.mp4', '--timeline', 't.json', '--min-seconds', 'nan'],
     "argument --min-seconds: expected a number >= 0, got 'nan'"),
    ('demo_video', ['v.mp4', '--timeline', 't.json', '--enter', '1.5'],
     "argument --enter: expected a number between 0 and 1, got '1.5'"),
    ('demo_video', ['v.mp4', '--timeline', 't.json', '--bogus'], 'unrecognized arguments: --bogus'),
    ('video_to_skeleton', ['v.mp4', '-o', 's.npy', '--every', '0'], "argument --every: expected an integer >= 1, got '0'"),
    ('video_to_skeleton', ['v.mp4', '-o', 's.npy', '--max-frames', '2.5'],
     "argument --max-frames: expected an integer >= 1, got '2.5'"),
    ('predict', ['-i', 'x.npy', '--model_file', 'm.json', '--cpu_threads', '-1'],
     "argument --cpu_threads: expected an integer >= 1, got '-1'"),
    ('predict', ['-i', 'x.npy', '--model_file', 'm.json', '-b', '0'],
     "argument -b/--batch_size: expected an integer >= 1, got '0'"),
    ('fuse_scores', ['a.npz', 'b.npz', '--weights', 'inf', '1'], "argument --weights: expected a number >= 0, got 'inf'"),
    ('render_views', ['j.npz', '--pitch', '100'], "argument --pitch: expected a number between -90 and 90, got '100'"),
    ('make_synthetic_data', ['--max-frames', '100'], "argument --max-frames: expected an integer >= 120, got '100'"),
    ('export_model', ['-c', 'c.yaml', '-p', 'w.pdparams', '--onnx', 'maybe'],
     "argument --onnx: expected True or False, got 'maybe'"),
]


@pytest.mark.parametrize('name, argv, line', FLAGS, ids=[f'{f[0]} {f[2].split(":")[0]}' for f in FLAGS])
def test_a_bad_flag_is_one_line(name, argv, line, capfd):
    code, out, err = tool(name, argv, capfd)
    assert (code, out, err) == (2, '', [f'error: {line} ({name}.py --help lists the options)'])


def test_fusion_flags_of_the_video_tool_are_checked_before_any_model_loads(tmp_path, capfd):
    video = tmp_path / 'v.mp4'
    video.write_bytes(b'')
    for argv, line in (
            (['--model', 'a.json', '--fuse-weights', '1'], '--fuse-weights weighs several --model files against each '
                                                           'other: give two or more'),
            (['--model', 'a.json', 'b.json', '-c', 'c.yaml'], '--config describes one model: with several --model '
                                                               'each brings its own contract')):
        code, out, err = tool('demo_video', [video, '--timeline', tmp_path / 't.json', *argv], capfd)
        assert (code, err) == (2, [f'error: {line}']) and not (tmp_path / 't.json').exists()


def test_bounded():
    assert bounded(int, 1)('3') == 3 and bounded(float, 0, 1)('0.25') == 0.25 and bounded(float)('-7') == -7.0
    for kind, low, high, text in ((int, 1, None, '0'), (int, None, 5, '6'), (float, None, None, '-inf'),
                                  (int, 0, None, 'three')):
        with pytest.raises(argparse.ArgumentTypeError, match=f"got '{text}'$"):
            bounded(kind, low, high)(text)


def test_the_parser_exits_with_one_line(capsys):
    parser = ArgumentParser(prog='t.py')
    parser.add_argument('--n', type=bounded(int, 1), required=True)
    with pytest.raises(SystemExit) as stop:
        parser.parse_args([])
    assert stop.value.code == 2
    assert capsys.readouterr().err == 'error: the following arguments are required: --n (t.py --help lists the ' \
                                      'options)\n'


def test_bad_score_dumps_are_one_line(tmp_path, capfd):
    np.savez(tmp_path / 'empty.npz', logits=np.zeros((0, 5), np.float32), labels=np.zeros(0, np.int64))
    np.save(tmp_path / 'array.npy', np.ones((4, 5), np.float32))
    (tmp_path / 'text.npz').write_text('logits')
    np.savez(tmp_path / 'labels.npz', logits=np.zeros((3, 4), np.float32), labels=np.array([0, 1, 9]))
    cases = [([tmp_path / 'empty.npz'], f'{tmp_path / "empty.npz"}: no samples (logits of shape (0, 5))'),
             ([tmp_path / 'array.npy'], f'{tmp_path / "array.npy"}: not a .npz archive (main.py --test --dump '
                                        f'writes one)'),
             ([tmp_path / 'text.npz'], f'{tmp_path / "text.npz"}: not a .npz archive (main.py --test --dump writes '
                                       f'one)'),
             ([tmp_path / 'labels.npz'], f'{tmp_path / "labels.npz"}: labels must be class ids 0..3 (logits have 4 '
                                         f'classes), found 0..9'),
             ([tmp_path], f'{tmp_path} is a folder; expected a score dump')]
    for argv, line in cases:
        code, out, err = tool('fuse_scores', argv, capfd)
        assert (code, out, err) == (2, '', [f'error: {line}'])


def test_a_file_of_another_kind_is_one_line(tmp_path, capfd):
    """A binary file as the label CSV (it was a UnicodeDecodeError traceback), a file as the OpenPose folder, a
    folder as the video (it said 'not found')."""
    (tmp_path / 'labels.csv').write_bytes(b'\x93NUMPY\x01\x00v\x00{"descr": "<f4"}\xb4\xff')
    (tmp_path / 'clip').mkdir()
    (tmp_path / 'clip' / 'clip_000000000000_keypoints.json').write_text('{"people": []}')
    code, _, err = tool('openpose_to_npy', [tmp_path / 'clip', '--frame-size', '1280x720', '-o', tmp_path / 'o.npy',
                                            '--labels', tmp_path / 'labels.csv', '--label-out', tmp_path / 'l.npy'],
                        capfd)
    assert code == 2 and len(err) == 1 and err[0].startswith(f'error: {tmp_path / "labels.csv"}: not a CSV text '
                                                             f"file ('utf-8' codec can't decode byte"), err
    code, _, err = tool('openpose_to_npy', [tmp_path / 'labels.csv', '--frame-size', '1280x720', '-o',
                                            tmp_path / 'o.npy'], capfd)
    assert (code, err) == (2, [f'error: {tmp_path / "labels.csv"} is a file; expected a folder of OpenPose JSON '
                               f'files'])
    code, _, err = tool('video_to_skeleton', [tmp_path, '-o', tmp_path / 'o.npy'], capfd)
    assert (code, err) == (2, [f'error: {tmp_path} is a folder; expected a video'])
    assert tree(tmp_path) == ['clip', 'clip/clip_000000000000_keypoints.json', 'labels.csv']


def test_a_config_that_is_not_yaml_text_is_one_line(places, capfd):
    folder, _ = places
    binary = folder / 'weights.yaml'
    binary.write_bytes(b'\x80\x04\x95 pickled')
    code, _, err = tool('model_summary', ['-c', binary], capfd)
    assert (code, err) == (2, [f"error: {binary}: not valid YAML ('utf-8' codec can't decode byte 0x80 in position 0: "
                               f"invalid start byte)"])
    code, _, err = tool('model_summary', ['-c', folder], capfd)
    assert (code, err) == (2, [f'error: {folder} is a folder; expected a YAML config file'])


def test_a_missing_model_or_one_of_another_kind_is_one_line(tmp_path, capfd):
    code, _, err = tool('demo_video', ['v.mp4', '--model', tmp_path / 'none.json', '--timeline', tmp_path / 't.json'],
                        capfd)
    assert (code, err) == (2, [f'error: model file not found: {tmp_path / "none.json"}'])
    (tmp_path / 'w.pdparams').write_bytes(b'weights')
    np.save(tmp_path / 'x.npy', np.ones((3, 10, 25, 1), np.float32))
    code, _, err = tool('predict', ['-i', tmp_path / 'x.npy', '--model_file', tmp_path / 'w.pdparams'], capfd)
    assert (code, err) == (2, [f'error: model file {tmp_path / "w.pdparams"}: expected an exported model (.json, '
                               f'.pdmodel, .onnx), found .pdparams (training weights: tools/export_model.py exports a '
                               f'model from them)'])
    assert tree(tmp_path) == ['w.pdparams', 'x.npy']


def test_paddle_inference_notes_are_held_back_and_other_lines_pass(capfd):
    """What native code prints on fd 1 inside the block: the known notes are dropped, anything else reaches stderr
    (a real message is never hidden), and stdout carries nothing of it."""
    libc = ctypes.CDLL(None)
    held = _NativeStdout()
    capfd.readouterr()
    for _ in range(2):   # the held file is emptied between blocks
        with held:
            os.write(1, ''.join(f'{line}\n' for line in PADDLE_INFERENCE_NOISE).encode())
            libc.printf(b'a real message from C\n')
            os.write(1, b'ReduceMeanCheckIfOneDNNSupport\n')
    print('ours')
    out, err = capfd.readouterr()
    assert out == 'ours\n'
    assert err == 'a real message from C\n' * 2
