"""Sliding windows over skeleton frames -> per-frame class scores -> segments (the timeline of elements).

Both steps are streaming (frames in one at a time, results out as soon as they are final), so the annotated
video keeps only a bounded buffer of frames and live input runs on the same code; the whole-video functions
`frame_scores` and `segment` are the streaming classes fed to the end.
"""
import csv
import io
import json
from collections import deque

import numpy as np

from ..utils.errors import ConfigError
from ..utils.fileio import atomic_write, write_text

NO_ELEMENT = 'no element'
_EPS = 1e-6   # in model frames: times that agree this closely are the same instant


class SlidingScores:
    """Skeleton frames in, one at a time -> each frame's class scores, the mean over the windows covering it.

    `score_windows(list of (T, V, 3) frames) -> (n, K)` scores windows of `window` model frames, which start every
    `stride` model frames; one more window ends on the last frame when the regular ones do not (so every frame is
    covered), and a video shorter than a window is one short window (the test pipeline pads it). A window in which
    nobody was seen scores 0 for every class: no evidence, so no element.
    When `model_fps` differs from `video_fps`, frames are resampled to the model's rate first (a model frame holds
    the latest video frame at or before its time) and each video frame reads the model frame at its time.
    A frame's scores are final once no later window can cover it: `window` model frames later, or at the end.
    `latest` holds the most recent window's scores (what live display shows as the current element).
    `centre` < 1 localises: a frame takes the mean over the windows whose middle `centre` of frames covers it
    (a window speaks for its middle, where a model trained on centred actions sees them), and over all windows
    covering it only where no middle does (the first and last frames of a video).
    """

    def __init__(self, score_windows, window, stride, num_classes, video_fps, model_fps=None, skip_stale=False,
                 centre=1.0):
        window, stride = int(window), int(stride)
        if not 1 <= stride <= window:
            raise ConfigError(f'stride must be between 1 and the window ({window} frames), got {stride}')
        if not 0 < centre <= 1:
            raise ConfigError(f'centre: expected a fraction of the window in (0, 1], got {centre}')
        self.middle = (window - max(int(round(centre * window)), 1)) // 2   # frames left out at each end
        if not video_fps or video_fps <= 0:
            raise ConfigError(f'the video frame rate must be positive, got {video_fps}')
        self.score_windows, self.window, self.stride, self.num_classes = score_windows, window, stride, num_classes
        self.video_fps = float(video_fps)
        self.ratio = float(model_fps or video_fps) / self.video_fps   # model frames per video frame
        self.skip_stale, self.due, self.skipped, self.scored = skip_stale, None, 0, 0
        self.frames = deque(maxlen=window + stride)   # the newest model frames: every window that can still run
        self.sums, self.counts = {}, {}      # model frame -> [all windows, middles]: summed scores, number
        self.pending = deque()               # video frames not final yet: (video index, model index)
        self.n_model = self.n_video = 0
        self.held = None                     # the last video frame's joints (sample and hold)
        self.latest = None

    def push(self, joints, time=None):
        """Add one video frame's (V, 3) joints at `time` seconds (default: its index over the video's fps);
        returns [(video index, (K,) scores)] for the frames that became final."""
        self.add(joints, time)
        return self.flush()

    def add(self, joints, time=None):
        """push() without returning: with `skip_stale`, the windows that fall due are only noted, and flush()
        scores the newest of them (live input that cannot keep up skips windows rather than falling behind;
        a frame no scored window covers gets 0 for every class)."""
        at = (self.n_video if time is None else time * self.video_fps) * self.ratio   # in model frames
        if self.held is not None:
            self._emit_until(at - _EPS, self.held)
        self._emit_until(at + _EPS, joints)
        self.held = joints
        self.pending.append((self.n_video, min(int(np.floor(at + _EPS)), self.n_model - 1)))
        self.n_video += 1

    def flush(self):
        """Score the newest due window (with `skip_stale`); returns the frames that became final."""
        if self.due is not None:
            self._score(self.due, self.due + self.window)
            self.due = None
        return self._final(self.n_model - 1 - self.window)

    def finish(self, end_time=None):
        """The end of the video (at `end_time` seconds, default one frame after the last): the last window, and
        the scores of every frame still waiting."""
        end = (self.n_video if end_time is None else end_time * self.video_fps) * self.ratio
        if self.held is not None:
            self._emit_until(end - _EPS, self.held)
        if self.due is not None:
            self._score(self.due, self.due + self.window)
            self.due = None
        n, W = self.n_model, self.window
        if 0 < n < W or (n >= W and (n - W) % self.stride):
            self._score(max(n - W, 0), n)
        return self._final(n - 1)

    def _emit_until(self, at, joints):
        """Model frames up to time `at` (in model frames) hold `joints`; a window ending on one falls due."""
        while self.n_model <= at:
            i = self.n_model
            self.frames.append(np.asarray(joints, dtype=np.float32))
            self.sums[i], self.counts[i] = np.zeros((2, self.num_classes), np.float64), np.zeros(2, np.int64)
            self.n_model += 1
            start = i + 1 - self.window
            if start >= 0 and start % self.stride == 0:
                if not self.skip_stale:
                    self._score(start, i + 1)
                else:
                    self.skipped += self.due is not None
                    self.due = start

    def _score(self, start, end):
        first = self.n_model - len(self.frames)          # model index of self.frames[0]
        clip = np.stack(list(self.frames)[start - first:end - first])
        scores = (np.asarray(self.score_windows([clip]), dtype=np.float64)[0] if clip[..., 2].any()
                  else np.zeros(self.num_classes))
        for i in range(start, end):
            middle = start + self.middle <= i < end - self.middle
            self.sums[i][0] += scores
            self.counts[i][0] += 1
            if middle:
                self.sums[i][1] += scores
                self.counts[i][1] += 1
        self.latest, self.scored = scores, self.scored + 1

    def _final(self, last_final):
        out = []
        while self.pending and self.pending[0][1] <= last_final:
            j, m = self.pending.popleft()
            k = int(self.counts[m][1] > 0)          # the middles' mean where there is one
            out.append((j, (self.sums[m][k] / max(self.counts[m][k], 1)).astype(np.float32)))
        # a later window starts after n_model - window - stride; a waiting video frame may read an earlier one
        keep = self.n_model - self.window - self.stride
        keep = min(keep, self.pending[0][1]) if self.pending else keep
        for m in [m for m in self.sums if m < keep]:
            del self.sums[m], self.counts[m]
        return out


class Segmenter:
    """Per-frame class scores in order -> rows that tile the video: elements and 'no element'.

    An element starts on a frame whose best class scores at least `enter` and lasts while that class scores at
    least `leave` (hysteresis: leave <= enter); an element shorter than `min_frames` becomes 'no element'; frames
    in no element form 'no element' rows (class_id -1). A row's score is the mean of its class's per-frame score
    (for 'no element', of the best class's, all below `enter`).

    With a `background` class (a model's 'no jump'), whether an element happens and which one are two questions:
    an element starts where the background scores at most 1 - `enter` and lasts while it stays at most 1 - `leave`;
    it is the class with the most score summed over its frames (the leader so far while it is open). A jump model
    splits a jump's window between the jump and 'Comb' (a combination holds the same jump) while 'no jump' gets
    next to nothing: the jump is certain, its name less so, and its score says how much. The background is never
    an element.
    """

    def __init__(self, enter=0.6, leave=0.4, min_frames=1, background=None):
        if not 0 <= leave <= enter <= 1:
            raise ConfigError(f'thresholds: expected 0 <= leave <= enter <= 1, got enter {enter}, leave {leave}')
        self.enter, self.leave, self.min_frames = float(enter), float(leave), max(int(min_frames), 1)
        self.background = background
        self.rows = []          # closed rows: [start, end, class_id, sum of class score, sum of best score]
        self.open = None
        self.sums = None        # with a background: each class's summed score over the open element
        self.n = 0

    def push(self, scores):
        """One frame's (K,) scores -> (class_id or -1, that class's score on this frame) of the open row."""
        scores = np.asarray(scores, dtype=np.float64)
        opening, _ = current_element(scores, self.enter, self.background)
        present = None
        if self.background is not None:
            present = 1.0 - scores[self.background]      # that some element happens
            scores = scores.copy()
            scores[self.background] = 0
        t, best = self.n, int(np.argmax(scores))
        self.n += 1
        row = self.open
        if row is not None and row[2] >= 0 and (scores[row[2]] if present is None else present) < self.leave:
            self._close()
            row = None
        if row is None or row[2] < 0:
            if opening >= 0:
                if row is not None:
                    self._close()
                row = self.open = [t, t - 1, opening, 0.0, 0.0]
                self.sums = np.zeros_like(scores)
            elif row is None:
                row = self.open = [t, t - 1, -1, 0.0, 0.0]
        row[1] = t
        if row[2] >= 0 and present is not None:
            self.sums += scores
            row[2] = int(np.argmax(self.sums))
            row[3] = float(self.sums[row[2]])
        else:
            row[3] += float(scores[row[2]] if row[2] >= 0 else scores[best])
        row[4] += float(scores[best])
        return row[2], float(scores[row[2]] if row[2] >= 0 else scores[best])

    def _close(self):
        row, self.open = self.open, None
        if row[2] >= 0 and row[1] - row[0] + 1 < self.min_frames:
            row[2], row[3] = -1, row[4]
        if row[2] < 0 and self.rows and self.rows[-1][2] < 0:
            last = self.rows[-1]
            last[1], last[3], last[4] = row[1], last[3] + row[3], last[4] + row[4]
        else:
            self.rows.append(row)

    def so_far(self):
        """The closed rows and the open one, as [start, end, class_id] (for drawing the strip)."""
        return [r[:3] for r in self.rows] + ([self.open[:3]] if self.open else [])

    def finish(self):
        """Close the open row; returns every row as [start, end (inclusive), class_id, mean score]."""
        if self.open is not None:
            self._close()
        return [[s, e, c, total / (e - s + 1)] for s, e, c, total, _ in self.rows]


def current_element(scores, enter, background=None):
    """(class_id or -1, its score) that one window's (K,) scores name as Segmenter opens an element: the best class
    at `enter` or more; with a `background` class, the best other class where the background is at most
    1 - `enter`."""
    if scores is None:
        return -1, 0.0
    scores = np.asarray(scores)
    if background is None:
        best = int(np.argmax(scores))
        return (best, float(scores[best])) if scores[best] >= enter else (-1, 0.0)
    others = np.where(np.arange(len(scores)) == background, -np.inf, scores)
    best = int(np.argmax(others))
    return (best, float(scores[best])) if 1.0 - scores[background] >= enter else (-1, 0.0)


def frame_scores(frames, score_windows, window, stride, num_classes, video_fps, model_fps=None, centre=1.0):
    """(T, V, 3) frames of a whole video -> (T, K) per-frame scores (SlidingScores fed to the end)."""
    sliding = SlidingScores(score_windows, window, stride, num_classes, video_fps, model_fps, centre=centre)
    out = np.zeros((len(frames), num_classes), np.float32)
    for joints in frames:
        for j, scores in sliding.push(joints):
            out[j] = scores
    for j, scores in sliding.finish():
        out[j] = scores
    return out


def segment(scores, enter=0.6, leave=0.4, min_frames=1, background=None):
    """(T, K) per-frame scores -> rows [start, end (inclusive), class_id, score] (Segmenter fed to the end)."""
    segmenter = Segmenter(enter, leave, min_frames, background)
    for s in scores:
        segmenter.push(s)
    return segmenter.finish()


def timeline(video, fps, frames, class_names, rows):
    """The timeline JSON object; start_s / end_s are the times the first frame starts and the last one ends."""
    return {'video': str(video), 'fps': float(fps), 'frames': int(frames), 'classes': list(class_names),
            'segments': [{'start_frame': int(s), 'end_frame': int(e), 'start_s': round(s / fps, 4),
                          'end_s': round((e + 1) / fps, 4), 'label': class_names[c] if c >= 0 else NO_ELEMENT,
                          'class_id': int(c), 'score': round(float(score), 4)} for s, e, c, score in rows]}


def timeline_paths(path):
    """The files write_timeline writes for `path`: the JSON, <stem>.csv and <stem>.png."""
    stem = path[:-5] if path.endswith('.json') else path
    return [path, stem + '.csv', stem + '.png']


def write_timeline(path, data, scores=None, enter=None, leave=None, background=None):
    """<path> (JSON), the same rows as CSV beside it (<stem>.csv), and, given the per-frame scores, a picture of
    the timeline (<stem>.png); each written atomically."""
    _, csv_path, png_path = timeline_paths(path)
    write_text(path, json.dumps(data, indent=1) + '\n')
    text = io.StringIO()
    fields = ['start_frame', 'end_frame', 'start_s', 'end_s', 'label', 'class_id', 'score']
    writer = csv.DictWriter(text, fields, lineterminator='\n')
    writer.writeheader()
    writer.writerows(data['segments'])
    write_text(csv_path, text.getvalue())
    if scores is not None:
        plot_timeline(png_path, data, scores, enter, leave, background)
    return [path, csv_path] + ([png_path] if scores is not None else [])


def score_curves(scores, names, background=None):
    """[(label, class_id, (T,) values)] the timeline picture draws: each class that leads on some frame; with a
    background class, instead of its own curve, that of some element happening (1 - background), the one the
    enter / leave thresholds apply to."""
    leaders = sorted(set(np.argmax(scores, axis=1)[scores.max(axis=1) > 0].tolist()) - {background})
    curves = [(names[c], c, scores[:, c]) for c in leaders]
    if background is not None:
        curves.append((f'any element (1 - {names[background]})', -1, 1.0 - scores[:, background]))
    return curves


def plot_timeline(path, data, scores, enter=None, leave=None, background=None):
    """The whole program in one picture: the elements as coloured bars over the per-frame score curves
    (score_curves) and the thresholds."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    from .draw import class_colour

    fps, names = data['fps'], data['classes']
    t = np.arange(len(scores)) / fps
    fig, (bars, curves) = plt.subplots(2, 1, figsize=(12, 4), sharex=True, height_ratios=[1, 3])
    for row in data['segments']:
        colour = np.array(class_colour(row['class_id'], len(names))[::-1]) / 255
        bars.barh(0, row['end_s'] - row['start_s'], left=row['start_s'], color=colour, edgecolor='white')
        if row['class_id'] >= 0:
            bars.text((row['start_s'] + row['end_s']) / 2, 0, row['label'], ha='center', va='center', fontsize=8,
                      clip_on=True)
    bars.set_yticks([])
    bars.set_title(f"{data['video']}: {sum(r['class_id'] >= 0 for r in data['segments'])} element(s)", fontsize=9)
    lines = score_curves(scores, names, background)
    for label, c, values in lines:
        curves.plot(t, values, label=label, **({'color': np.array(class_colour(c, len(names))[::-1]) / 255}
                                               if c >= 0 else {'color': 'black', 'linestyle': ':'}))
    for level, name in ((enter, 'enter'), (leave, 'leave')):
        if level is not None:
            curves.axhline(level, color='grey', linestyle='--', linewidth=0.8)
            curves.text(0.995, level, name, transform=curves.get_yaxis_transform(), ha='right', va='bottom',
                        fontsize=7, color='grey')
    curves.set_ylim(0, 1)
    curves.set_xlim(0, data['frames'] / fps)
    curves.set_xlabel('time (s)')
    curves.set_ylabel('score')
    if lines:
        curves.legend(fontsize=7, loc='upper left', ncol=min(len(lines), 4))
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format='png', dpi=100)
    plt.close(fig)
    atomic_write(path, lambda f: f.write(buf.getvalue()))
