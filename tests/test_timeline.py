"""Sliding windows -> per-frame scores -> segments, against cases computed by hand.

Frames carry their own index in joint 0's x (and confidence 1), so a fake scorer can tell which frames each window
holds; window scores are one-hot vectors chosen per window, so every averaged figure below is exact.
"""
import csv
import json

import numpy as np
import pytest

from conftest import ROOT  # noqa: F401  (puts the repository on sys.path)
from paddlevideo.inference.timeline import (SlidingScores, Segmenter, current_element, frame_scores, segment,
                                            score_curves, timeline, write_timeline)
from paddlevideo.utils.errors import ConfigError


def frames(n, seen=True):
    out = np.zeros((n, 25, 3), np.float32)
    out[:, 0, 0] = np.arange(n)
    out[:, 0, 2] = 1.0 if seen else 0.0
    return out


class Scorer:
    """Scores a window by the index of its first frame: `by_first[index]` (a K vector); records each window."""

    def __init__(self, by_first):
        self.by_first, self.windows = by_first, []

    def __call__(self, clips):
        self.windows += [c[:, 0, 0].astype(int).tolist() for c in clips]
        return np.stack([self.by_first[int(c[0, 0, 0])] for c in clips])


E = np.eye(3)


def test_windows_average_over_the_frames_they_cover_and_the_last_one_ends_on_the_last_frame():
    """Window 4, stride 2, 7 frames: regular windows start at 0 and 2; one more, [3, 6], ends on the last frame."""
    scorer = Scorer({0: E[0], 2: E[1], 3: E[2]})
    got = frame_scores(frames(7), scorer, window=4, stride=2, num_classes=3, video_fps=30)
    assert scorer.windows == [[0, 1, 2, 3], [2, 3, 4, 5], [3, 4, 5, 6]]
    want = [[1, 0, 0], [1, 0, 0], [.5, .5, 0], [1 / 3, 1 / 3, 1 / 3], [0, .5, .5], [0, .5, .5], [0, 0, 1]]
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_a_window_speaks_for_its_middle_with_centre():
    """The windows of the case above with centre 0.5 (the middle 2 of 4 frames): [0, 3] speaks for 1-2, [2, 5]
    for 3-4, [3, 6] for 4-5; frames 0 and 6, in no middle, keep the mean of all windows covering them."""
    scorer = Scorer({0: E[0], 2: E[1], 3: E[2]})
    got = frame_scores(frames(7), scorer, window=4, stride=2, num_classes=3, video_fps=30, centre=0.5)
    want = [[1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0], [0, .5, .5], [0, 0, 1], [0, 0, 1]]
    np.testing.assert_allclose(got, want, atol=1e-6)
    with pytest.raises(ConfigError, match=r'^centre: expected a fraction of the window in \(0, 1\], got 0$'):
        SlidingScores(scorer, 4, 2, 3, video_fps=30, centre=0)


def test_a_frame_is_final_once_no_later_window_can_cover_it():
    """Frame t is returned when frame t + window arrives (the buffer holds window + 1 frames), the rest at the end."""
    scorer = Scorer({0: E[0], 2: E[1], 3: E[2]})
    sliding = SlidingScores(scorer, 4, 2, 3, video_fps=30)
    returned = [[j for j, _ in sliding.push(f)] for f in frames(7)]
    assert returned == [[], [], [], [], [0], [1], [2]]
    assert [j for j, _ in sliding.finish()] == [3, 4, 5, 6]


def test_a_video_shorter_than_the_window_is_one_short_window():
    scorer = Scorer({0: E[1]})
    got = frame_scores(frames(3), scorer, window=4, stride=2, num_classes=3, video_fps=30)
    assert scorer.windows == [[0, 1, 2]]
    np.testing.assert_allclose(got, [E[1]] * 3)


def test_a_window_with_nobody_scores_zero_without_running_the_model():
    scorer = Scorer({})
    got = frame_scores(frames(5, seen=False), scorer, window=4, stride=1, num_classes=3, video_fps=30)
    assert scorer.windows == [] and not got.any()


def test_a_faster_video_is_resampled_to_the_model_rate_and_mapped_back():
    """60 fps video, 30 fps model, window 2: model frames hold video frames 0, 2, 4; video frame j reads model
    frame j // 2."""
    scorer = Scorer({0: E[0], 2: E[1]})
    got = frame_scores(frames(6), scorer, window=2, stride=1, num_classes=3, video_fps=60, model_fps=30)
    assert scorer.windows == [[0, 2], [2, 4]]
    np.testing.assert_allclose(got, [E[0], E[0], [.5, .5, 0], [.5, .5, 0], E[1], E[1]])


def test_a_slower_video_is_resampled_to_the_model_rate_and_mapped_back():
    """30 fps video, 60 fps model, window 3: model frames hold video frames 0, 0, 1, 1, 2, 2; video frame j reads
    model frame 2j (0 covered by one window, 2 by three, 4 by two)."""
    scorer = Scorer({0: E[0], 1: E[2]})
    sliding = SlidingScores(scorer, 3, 1, 3, video_fps=30, model_fps=60)
    got = dict(p for f in frames(3) for p in sliding.push(f))
    got.update(sliding.finish())
    assert scorer.windows == [[0, 0, 1], [0, 1, 1], [1, 1, 2], [1, 2, 2]]
    np.testing.assert_allclose([got[j] for j in range(3)], [E[0], [2 / 3, 0, 1 / 3], E[2]], atol=1e-6)


def test_stride_beyond_the_window_is_refused():
    with pytest.raises(ConfigError, match='stride must be between 1 and the window'):
        SlidingScores(Scorer({}), 4, 5, 3, video_fps=30)


SCORES = np.array([[.5, .5], [.7, .3], [.45, .55], [.3, .7], [.35, .65], [.5, .5], [.8, .2], [.3, .3]])


def test_hysteresis_enters_at_one_threshold_and_leaves_below_the_lower_one():
    """enter 0.6, leave 0.4: class 0 holds at 0.45, class 1 holds at 0.5, the last frame is below both."""
    rows = segment(SCORES, enter=0.6, leave=0.4, min_frames=1)
    want = [[0, 0, -1, .5], [1, 2, 0, (.7 + .45) / 2], [3, 5, 1, (.7 + .65 + .5) / 3], [6, 6, 0, .8],
            [7, 7, -1, .3]]
    assert [r[:3] for r in rows] == [w[:3] for w in want]
    np.testing.assert_allclose([r[3] for r in rows], [w[3] for w in want])


def test_an_element_shorter_than_the_minimum_becomes_no_element_and_joins_its_neighbour():
    rows = segment(SCORES, enter=0.6, leave=0.4, min_frames=2)
    assert [r[:3] for r in rows] == [[0, 0, -1], [1, 2, 0], [3, 5, 1], [6, 7, -1]]
    assert rows[-1][3] == pytest.approx((.8 + .3) / 2)


def test_without_hysteresis_the_same_scores_split_more():
    """leave = enter: class 0 leaves at 0.45 on frame 2, which starts nothing (0.55 < 0.6)."""
    rows = segment(SCORES, enter=0.6, leave=0.6, min_frames=1)
    assert [r[:3] for r in rows] == [[0, 0, -1], [1, 1, 0], [2, 2, -1], [3, 4, 1], [5, 5, -1], [6, 6, 0],
                                     [7, 7, -1]]


def test_scores_below_the_threshold_everywhere_are_one_no_element_row():
    rows = segment(np.full((5, 3), 1 / 3), enter=0.6, leave=0.4)
    assert [r[:3] for r in rows] == [[0, 4, -1]]


def test_the_background_class_is_never_an_element():
    """A 'no jump' class (column 2) that wins a frame counts for no element; the others still enter and leave
    by their own scores (frame 1: class 0 at 0.65 enters although 'no jump' has 0.3 and nothing else)."""
    scores = np.array([[.1, .1, .8], [.65, .05, .3], [.45, .05, .5], [.2, .1, .7], [.1, .1, .8]])
    assert [r[:3] for r in segment(scores, background=2)] == [[0, 0, -1], [1, 2, 0], [3, 4, -1]]
    assert [r[:3] for r in segment(scores)] == [[0, 0, 2], [1, 2, 0], [3, 4, 2]]   # without: an element
    assert segment(scores, background=2)[2][3] == pytest.approx((.2 + .1) / 2)


def test_with_a_background_an_element_is_where_the_background_is_not_named_by_its_summed_leader():
    """'no jump' (column 2) at most 1 - enter opens an element although no jump class reaches enter (0.45 / 0.4:
    a jump split between two names), it lasts while 'no jump' stays at most 1 - leave, and it is named by the
    class with the most summed score (0 leads on frame 1, 1 from frame 2 on), scored by that class's mean."""
    scores = np.array([[.05, .05, .9], [.45, .4, .15], [.3, .55, .15], [.35, .35, .3], [.1, .1, .8]])
    segmenter = Segmenter(enter=0.6, leave=0.4, background=2)
    assert [segmenter.push(s)[0] for s in scores] == [-1, 0, 1, 1, -1]
    rows = segmenter.finish()
    assert [r[:3] for r in rows] == [[0, 0, -1], [1, 3, 1], [4, 4, -1]]
    assert rows[1][3] == pytest.approx((.4 + .55 + .35) / 3)
    assert [r[:3] for r in segment(scores)] == [[0, 0, 2], [1, 3, -1], [4, 4, 2]]  # no background: no jump named


def test_the_current_element_of_one_window_is_named_as_the_segmenter_opens_one():
    """Live input shows what the newest window names: its best class at `enter` or more; with a background,
    the best other class where the background is at most 1 - enter (0.45 is no element without one)."""
    assert current_element(np.array([.45, .4, .15]), 0.6) == (-1, 0.0)
    assert current_element(np.array([.45, .4, .15]), 0.6, background=2) == (0, pytest.approx(.45))
    assert current_element(np.array([.05, .05, .9]), 0.6, background=2) == (-1, 0.0)
    assert current_element(np.array([.05, .05, .9]), 0.6) == (2, pytest.approx(.9))
    assert current_element(None, 0.6) == (-1, 0.0)


def test_bad_thresholds_are_refused():
    with pytest.raises(ConfigError, match='leave <= enter'):
        Segmenter(enter=0.4, leave=0.6)


def test_timeline_json_csv_and_picture(tmp_path):
    """Rows tile the video, end inclusive; seconds are the start of the first frame and the end of the last."""
    rows = segment(SCORES, enter=0.6, leave=0.4, min_frames=2)
    data = timeline('v.mp4', 4.0, len(SCORES), ['a', 'b'], rows)
    assert data['segments'][1] == {'start_frame': 1, 'end_frame': 2, 'start_s': 0.25, 'end_s': 0.75, 'label': 'a',
                                   'class_id': 0, 'score': 0.575}
    assert data['segments'][-1]['label'] == 'no element' and data['segments'][-1]['end_s'] == 2.0
    starts = [r['start_frame'] for r in data['segments']]
    ends = [r['end_frame'] for r in data['segments']]
    assert starts == [0] + [e + 1 for e in ends[:-1]] and ends[-1] == len(SCORES) - 1
    paths = write_timeline(str(tmp_path / 't.json'), data, SCORES, 0.6, 0.4)
    assert paths == [str(tmp_path / f't.{x}') for x in ('json', 'csv', 'png')]
    assert json.loads((tmp_path / 't.json').read_text()) == data
    with open(tmp_path / 't.csv') as f:
        table = list(csv.DictReader(f))
    assert [(int(r['start_frame']), int(r['end_frame']), r['label']) for r in table] == [
        (r['start_frame'], r['end_frame'], r['label']) for r in data['segments']]
    assert (tmp_path / 't.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['t.csv', 't.json', 't.png']   # no temporary files


def test_live_input_that_falls_behind_scores_only_the_newest_due_window():
    """skip_stale: seven frames arrive before the scorer runs; of the windows at 0 and 2 only the one at 2 is
    scored, so frames 0 and 1 (covered by no scored window) read 0, and the end adds the window [3, 6]."""
    scorer = Scorer({2: E[1], 3: E[2]})
    sliding = SlidingScores(scorer, 4, 2, 3, video_fps=30, skip_stale=True)
    for f in frames(7):
        sliding.add(f)
    got = dict(sliding.flush())
    assert sorted(got) == [0, 1, 2] and sliding.skipped == 1 and scorer.windows == [[2, 3, 4, 5]]
    got.update(sliding.finish())
    assert scorer.windows == [[2, 3, 4, 5], [3, 4, 5, 6]]
    np.testing.assert_allclose([got[j] for j in range(7)], [[0, 0, 0], [0, 0, 0], E[1], [0, .5, .5], [0, .5, .5],
                                                            [0, .5, .5], E[2]])


def test_frames_between_two_far_apart_video_frames_keep_their_sums_for_later_windows():
    """Live input with dropped frames: video frames at model frames 0 and 9 (8 held frames between), window 4,
    stride 1, skip_stale; the windows due later still find frames 6..8 (a waiting video frame at 9 does not
    decide what is kept)."""
    scorer = Scorer({0: E[0]})
    sliding = SlidingScores(scorer, 4, 1, 3, video_fps=30, skip_stale=True)
    one = frames(1)[0]
    for t in (0, 9 / 30, 10 / 30, 11 / 30):
        sliding.add(one, t)
        sliding.flush()
    assert sliding.scored == 3 and sliding.skipped == 6
    assert [j for j, _ in sliding.finish()] == [1, 2, 3]


def test_the_picture_draws_what_the_thresholds_apply_to():
    """Without a background class, the curves of the classes that lead somewhere (enter / leave apply to them);
    with one, those of the other leaders and that of some element happening, 1 - background, in its place."""
    scores = np.array([[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]])
    names = ['Axel', 'Lutz', 'No jump']
    assert [(label, c) for label, c, _ in score_curves(scores, names)] == [('Axel', 0), ('Lutz', 1), ('No jump', 2)]
    curves = score_curves(scores, names, background=2)
    assert [(label, c) for label, c, _ in curves] == [('Axel', 0), ('Lutz', 1), ('any element (1 - No jump)', -1)]
    np.testing.assert_allclose(curves[-1][2], [0.9, 0.7, 0.2, 0.6])
    np.testing.assert_array_equal(curves[0][2], scores[:, 0])
