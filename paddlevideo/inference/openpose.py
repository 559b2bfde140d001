"""OpenPose's --write_json output read back as a pose source, and whole folders turned into FSD-layout samples.

OpenPose writes one file per frame, `<name>_<12-digit frame>_keypoints.json`, holding {"people": [{"pose_keypoints_2d":
[x0, y0, c0, x1, y1, c1, ...]}, ...]}: 25 joints for BODY_25, in pixels of the source video by default
(--keypoint_scale 0). FSD-10's own scripts (skeleton_scripts' skating_convert.py / skating_gendata.py) packed
such folders into N x 3 x T x 25 x 1 arrays with a label CSV; this module does that step directly.
"""
import csv
import json
import os
import re

import numpy as np

from ..utils.errors import DataError
from ..utils.fileio import atomic_write, check_input_file
from .pose import NUM_JOINTS, MainSkater, frames_with_skeleton, to_fsd_layout

FRAME_FILE = re.compile(r'^(?P<name>.+)_(?P<frame>\d{12})_keypoints\.json$')


def _read_frame(path):
    """(P, 25, 3) people of one OpenPose JSON file (P may be 0)."""
    try:
        with open(path, encoding='utf-8') as f:
            people = json.load(f)['people']
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise DataError(f'{path}: not a readable OpenPose JSON file ({e})') from None
    except (KeyError, TypeError):
        raise DataError(f'{path}: expected an OpenPose JSON object with a "people" list') from None
    rows = []
    for person in people:
        keypoints = person.get('pose_keypoints_2d') if isinstance(person, dict) else None
        if not keypoints:  # OpenPose leaves it empty when only a face or hands were kept
            continue
        if len(keypoints) != NUM_JOINTS * 3:
            raise DataError(f'{path}: expected pose_keypoints_2d of {NUM_JOINTS * 3} numbers (BODY_25: x, y, '
                            f'confidence per joint), found {len(keypoints)} (run OpenPose with --model_pose BODY_25)')
        try:
            rows.append(np.asarray(keypoints, np.float32).reshape(NUM_JOINTS, 3))
        except (TypeError, ValueError):
            raise DataError(f'{path}: pose_keypoints_2d holds something other than numbers') from None
    return np.stack(rows) if rows else np.zeros((0, NUM_JOINTS, 3), np.float32)


class OpenPoseJSON:
    """One folder of OpenPose per-frame JSON files, as a pose source: iteration yields (25, 3) float32 joints in
    pixels for frames 0 .. the last file's frame number, the main skater of each frame (MainSkater), zeros for a
    frame with nobody or without a file. `name` is the video name the files start with."""

    def __init__(self, folder):
        if os.path.isfile(folder):
            raise DataError(f'{folder} is a file; expected a folder of OpenPose JSON files')
        if not os.path.isdir(folder):
            raise DataError(f'OpenPose JSON folder not found: {folder}')
        self.folder = folder
        files, names = {}, set()
        for entry in os.listdir(folder):
            match = FRAME_FILE.match(entry)
            if match:
                files[int(match['frame'])] = os.path.join(folder, entry)
                names.add(match['name'])
        if not files:
            raise DataError(f'{folder}: no OpenPose JSON files (<name>_<12-digit frame>_keypoints.json) in it')
        if len(names) > 1:
            raise DataError(f'{folder}: expected the frames of one video, found files of {len(names)}: '
                            f'{", ".join(sorted(names)[:4])}')
        self.name = names.pop()
        self._files = files
        self.num_frames = max(files) + 1

    def __len__(self):
        return self.num_frames

    def __iter__(self):
        skater = MainSkater()
        empty = np.zeros((0, NUM_JOINTS, 3), np.float32)
        for t in range(self.num_frames):
            yield skater(_read_frame(self._files[t]) if t in self._files else empty)

    def joints(self):
        """(T, 25, 3) pixels."""
        return np.stack(list(self))


def read_label_csv(path):
    """{file name: label} from the FSD-10 tooling's CSV: rows `class,file name,frames,label` (no extension needed on
    the file name; frames is not used). A first row whose label is not an integer is taken as a header."""
    check_input_file(path, 'label CSV')
    try:
        with open(path, newline='', encoding='utf-8') as f:
            rows = list(csv.reader(f))
    except (UnicodeDecodeError, csv.Error) as e:
        raise DataError(f'{path}: not a CSV text file ({e})') from None
    labels = {}
    for line, row in enumerate(rows, 1):
        if not row or not ''.join(row).strip():
            continue
        if len(row) != 4:
            raise DataError(f'{path}, line {line}: expected 4 columns (class, file name, frames, label), '
                            f'found {len(row)}')
        name, label = row[1].strip(), row[3].strip()
        if not re.fullmatch(r'-?\d+', label):
            if line == 1:
                continue
            raise DataError(f'{path}, line {line}: expected an integer label, found "{label}"')
        if name in labels:
            raise DataError(f'{path}, line {line}: file name "{name}" appears twice')
        labels[name] = int(label)
    if not labels:
        raise DataError(f'{path}: no label rows in it')
    return labels


def _label_for(source, labels, csv_path):
    """The CSV label of a folder: its row is found by the folder's name or by the video name its files carry."""
    for key in (os.path.basename(os.path.normpath(source.folder)), source.name):
        for name in (key, *(n for n in labels if os.path.splitext(n)[0] == key)):
            if name in labels:
                return labels[name]
    raise DataError(f'{csv_path}: no row for {source.folder} (its files are named {source.name}_...); '
                    f'expected a row "class,{source.name},frames,label"')


def write_openpose_npy(folders, data_path, width, height, norm='fsd', label_csv=None, label_path=None):
    """OpenPose JSON folders (one per sample) -> data_path: (N, 3, T, 25, 1) float32 .npy, T the longest sample,
    zeros after a shorter one's end; with label_csv, label_path: (N,) int64. Every folder and label is checked
    before anything is written; the data is streamed into the file one sample at a time (a dataset never sits in
    memory whole) and renamed into place. Returns (shape, labels or None, frames with a skeleton per sample)."""
    sources = [OpenPoseJSON(folder) for folder in folders]
    labels = None
    if label_csv is not None:
        table = read_label_csv(label_csv)
        labels = np.array([_label_for(s, table, label_csv) for s in sources], np.int64)
    length = max(len(s) for s in sources)
    shape = (len(sources), 3, length, NUM_JOINTS, 1)
    seen = []

    def write(f):
        np.lib.format.write_array_header_1_0(f, {'descr': np.dtype(np.float32).str, 'fortran_order': False,
                                                 'shape': shape})
        for source in sources:
            joints = np.zeros((length, NUM_JOINTS, 3), np.float32)
            joints[:len(source)] = source.joints()
            seen.append(int(frames_with_skeleton(joints).sum()))
            f.write(to_fsd_layout(joints, width, height, norm).tobytes())

    atomic_write(data_path, write)
    if labels is not None:
        atomic_write(label_path, lambda f: np.save(f, labels))
    return shape, labels, np.array(seen)
