"""The video path as a library: frames -> pose -> recognizer over sliding windows -> timeline and annotated frames.

`annotate_video` runs over a whole file, streamed: a frame waits in a bounded buffer (about one window) until the
windows covering it are scored, then is drawn and written; the video is written to a temporary file and renamed,
so a failure leaves nothing. `run_live` follows a camera or stream: a reader thread keeps only the newest frame
(older ones are dropped, not queued), so what is shown is never more than about one frame's processing old.
"""
import os
import queue
import tempfile
import threading
import time
from collections import deque

import numpy as np

from ..utils.errors import ConfigError, DataError
from ..utils.fileio import umask
from .draw import annotate
from .timeline import NO_ELEMENT, Segmenter, SlidingScores, current_element, timeline
from .video_io import import_cv2

# Frames the pose thread may run ahead of drawing: more than a stride's, because a scored window releases a stride
# of frames to be drawn and encoded at once, and a shorter queue leaves the pose thread waiting meanwhile.
POSE_AHEAD = 16
FOURCC = {'.mp4': 'mp4v', '.m4v': 'mp4v', '.mov': 'mp4v', '.avi': 'MJPG', '.mkv': 'MJPG'}


class AtomicVideoWriter:
    """cv2.VideoWriter into a temporary file beside `path`, renamed into place by commit(); abort() (or leaving
    the `with` block on an exception) deletes it."""

    def __init__(self, path, fps, size):
        cv2 = import_cv2()
        ext = os.path.splitext(path)[1].lower()
        if ext not in FOURCC:
            raise ConfigError(f'{path}: cannot write this kind of video; known: {", ".join(FOURCC)}')
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(dir=folder, prefix='.tmp_', suffix=ext)
        os.close(fd)
        self.path, self.size = path, tuple(size)
        self.writer = cv2.VideoWriter(self.tmp, cv2.VideoWriter_fourcc(*FOURCC[ext]), float(fps), self.size)
        if not self.writer.isOpened():
            self.abort()
            raise ConfigError(f'{path}: OpenCV cannot open a {FOURCC[ext]} writer for it')

    def write(self, frame):
        self.writer.write(frame)

    def commit(self):
        self.writer.release()
        os.chmod(self.tmp, 0o666 & ~umask())   # the mode a plain open() gives (mkstemp's is 0600)
        os.replace(self.tmp, self.path)

    def abort(self):
        self.writer.release()
        if os.path.exists(self.tmp):
            os.remove(self.tmp)

    def __enter__(self):
        return self

    def __exit__(self, kind, *exc):
        self.abort() if kind else self.commit()


def prefetch(items, size):
    """Iterate `items` in a background thread, at most `size` ahead (OpenCV and MediaPipe release the GIL, so
    decoding and pose run beside the caller's work); an exception there is raised here."""
    out, done = queue.Queue(maxsize=size), object()
    stop = threading.Event()

    def put(item):
        """Wait for room unless the consumer has left; False once it has."""
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for item in items:
                if not put(item):
                    return
            put(done)
        except BaseException as e:   # handed to the consumer, which raises it
            put(e)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            item = out.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


def posed_frames(video, estimator, pose_every=1):
    """(frame, joints) for every frame; pose on every `pose_every`-th, the others keep the last joints."""
    if pose_every < 1:
        raise ConfigError(f'pose_every must be a positive number of frames, got {pose_every}')
    joints = None
    for j, frame in enumerate(video):
        if j % pose_every == 0:
            joints = estimator(frame)
        yield frame, joints


def check_source(recognizer, video):
    if recognizer.contract['layout'] != 'fsd10':
        raise ConfigError(f"the video path gives OpenPose BODY_25 joints; the model's layout is "
                          f"'{recognizer.contract['layout']}' (MODEL.backbone.layout)")
    if not video.fps:
        raise DataError(f'{video.name}: the video does not say its frame rate')


def annotate_video(video, estimator, recognizer, out_path=None, stride=8, enter=0.6, leave=0.4, min_seconds=0.2,
                   pose_every=1, threaded=True, centre=1.0):
    """Recognise the elements of an opened video; optionally write it annotated to `out_path` (same fps and
    size). Returns (timeline dict, (T, K) per-frame scores). Nobody seen in any frame is a DataError."""
    check_source(recognizer, video)
    fps, size = video.fps, video.size
    sliding = SlidingScores(lambda clips: recognizer.scores(clips, size), recognizer.window, stride,
                            recognizer.num_classes, fps, recognizer.fps, centre=centre)
    segmenter = Segmenter(enter, leave, round(min_seconds * fps), recognizer.background)
    names, layout = recognizer.class_names, recognizer.contract['layout']
    buffer, scores, seen = deque(), [], [False]
    writer = AtomicVideoWriter(out_path, fps, size) if out_path else None

    def emit(final):
        for j, frame_scores in final:
            frame, joints = buffer.popleft()
            class_id, score = segmenter.push(frame_scores)
            scores.append(frame_scores)
            if writer:
                if frame.shape[1::-1] != tuple(size):
                    raise DataError(f'{video.name}: frame {j} is {frame.shape[1]}x{frame.shape[0]}, the video '
                                    f'began at {size[0]}x{size[1]}')
                annotate(frame, joints, names[class_id] if class_id >= 0 else NO_ELEMENT, score, class_id,
                         segmenter.so_far(), j, max(video.frame_count, sliding.n_video), len(names), layout)
                writer.write(frame)

    decoded = prefetch(video, 4) if threaded else video
    frames = posed_frames(decoded, estimator, pose_every)
    if threaded:
        frames = prefetch(frames, POSE_AHEAD)
    try:
        for frame, joints in frames:
            seen[0] = seen[0] or bool(joints[:, 2].any())
            buffer.append((frame if writer else None, joints))
            emit(sliding.push(joints))
        emit(sliding.finish())
        if not seen[0]:
            raise DataError(f'{video.name}: nobody was seen in any of its {sliding.n_video} frames, so there is '
                            f'nothing to recognise')
    except BaseException:
        if writer:
            writer.abort()
        raise
    finally:
        if threaded:  # the pose thread first: it reads the decoding one
            frames.close()
            decoded.close()
    if writer:
        writer.commit()
    rows = segmenter.finish()
    return timeline(video.name, fps, sliding.n_video, recognizer.class_names, rows), np.array(scores)


class LatestFrame:
    """A reader thread over a video that keeps only the newest frame: a slow consumer drops frames instead of
    falling behind. `realtime` paces a file at its own frame rate (a camera paces itself)."""

    def __init__(self, video, realtime=False):
        self.video, self.realtime = video, realtime
        self.lock = threading.Condition()
        self.item, self.ended, self.error = None, False, None
        self.read = self.dropped = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        start = time.monotonic()
        try:
            for j, frame in enumerate(self.video):
                if self.stop.is_set():
                    break
                if self.realtime:
                    time.sleep(max(start + j / self.video.fps - time.monotonic(), 0))
                with self.lock:
                    self.dropped += self.item is not None
                    self.item, self.read = (frame, time.monotonic()), self.read + 1
                    self.lock.notify()
        except BaseException as e:   # raised in the consumer
            self.error = e
        with self.lock:
            self.ended = True
            self.lock.notify()

    def get(self):
        """(frame, capture time) of the newest frame not taken yet; None at the end."""
        with self.lock:
            while self.item is None and not self.ended:
                self.lock.wait()
            if self.error:
                raise self.error
            item, self.item = self.item, None
            return item

    def close(self):
        self.stop.set()
        self.thread.join()


class LiveRecognition:
    """Recognition on its own thread for live input: the display loop hands over each frame's joints and reads
    the newest window's scores, never waiting for the network (a window can take longer than a frame); windows
    that fall due while one runs are skipped but for the newest (SlidingScores.skip_stale)."""

    def __init__(self, recognizer, size, stride, fps, enter, leave, min_frames, centre=1.0):
        self.sliding = SlidingScores(lambda clips: recognizer.scores(clips, size), recognizer.window, stride,
                                     recognizer.num_classes, fps, recognizer.fps or fps, skip_stale=True,
                                     centre=centre)
        self.segmenter = Segmenter(enter, leave, min_frames, recognizer.background)
        self.inbox, self.lock, self.error = queue.Queue(), threading.Lock(), None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while True:
                items = [self.inbox.get()]
                while not self.inbox.empty():
                    items.append(self.inbox.get())
                for item in items:
                    if item is None:
                        return self._take(self.sliding.finish())
                    self.sliding.add(*item)
                self._take(self.sliding.flush())
        except BaseException as e:   # raised in the display loop
            self.error = e

    def _take(self, final):
        with self.lock:
            for _, scores in final:
                self.segmenter.push(scores)

    def add(self, joints, time):
        if self.error:
            raise self.error
        self.inbox.put((joints, time))

    def rows(self):
        with self.lock:
            return self.segmenter.so_far()

    def stop(self):
        self.inbox.put(None)
        self.thread.join()

    def close(self):
        self.stop()
        if self.error:
            raise self.error


def run_live(video, estimator, recognizer, show=False, out_path=None, stride=8, enter=0.6, leave=0.4,
             min_seconds=0.2, realtime=False, max_seconds=None, report=None, report_every=2.0, centre=1.0,
             threaded=True):
    """Follow a camera, stream or (with `realtime`) a file played at its rate: pose and drawing on the newest
    frame (older ones are dropped), recognition beside them on its own thread (LiveRecognition); shown in a
    window and/or written to `out_path`. `threaded`: pose on a thread of its own, one frame ahead of the drawing
    and writing (a frame's pose overlaps the previous frame's encoding); else both on this thread. The current
    element is what the newest window names (timeline's current_element: as Segmenter opens one); the strip shows
    the final timeline so far. Returns the statistics: frames read, shown, dropped, windows skipped, the shown
    rate, the latency (capture to drawn) and the work per shown frame (taken to drawn): a frame waits at most one
    frame's work before it is taken, so latency <= 2 x work + a frame interval. `report(statistics)` is called
    every `report_every` seconds on the way."""
    check_source(recognizer, video)
    fps, size = video.fps, video.size
    names, layout = recognizer.class_names, recognizer.contract['layout']
    cv2 = import_cv2() if show else None
    recognizer.warm_up(size)
    estimator(np.zeros((size[1], size[0], 3), np.uint8))   # loads the pose model before the clock starts
    writer = AtomicVideoWriter(out_path, fps, size) if out_path else None
    live = LiveRecognition(recognizer, size, stride, fps, enter, leave, round(min_seconds * fps), centre)
    source = LatestFrame(video, realtime)
    latencies, work, t0, last_report, drawn = [], [], None, time.monotonic(), None

    def statistics():
        elapsed = drawn - t0 if latencies else 0.0   # first capture to last drawn frame
        lat, busy = (np.array(x) if x else np.zeros(1) for x in (latencies, work))
        return {'seconds': elapsed, 'read': source.read, 'shown': len(latencies), 'dropped': source.dropped,
                'windows': live.sliding.scored, 'windows_skipped': live.sliding.skipped,
                'shown_fps': len(latencies) / elapsed if elapsed > 0 else 0.0,
                'latency_mean_ms': float(lat.mean() * 1000), 'latency_max_ms': float(lat.max() * 1000),
                'work_mean_ms': float(busy.mean() * 1000), 'work_max_ms': float(busy.max() * 1000)}

    def posed():
        """(frame, capture time, time taken, joints) of the newest frame, until the source ends."""
        while (item := source.get()) is not None:
            taken = time.monotonic()
            yield item + (taken, estimator(item[0]))

    frames = prefetch(posed(), 1) if threaded else posed()
    try:
        for frame, captured, taken, joints in frames:
            t0 = captured if t0 is None else t0
            live.add(joints, captured - t0)
            current = live.sliding.latest
            class_id, score = current_element(current, enter, recognizer.background)
            shown = len(latencies)
            annotate(frame, joints, names[class_id] if class_id >= 0 else NO_ELEMENT, score, class_id, live.rows(),
                     shown, shown + 1, len(names), layout)
            if writer:
                writer.write(frame)
            if show:
                cv2.imshow('paddlevideo live', frame)
                if cv2.waitKey(1) & 0xFF == ord('q'):
                    break
            done = drawn = time.monotonic()
            latencies.append(done - captured)
            work.append(done - taken)
            if report and done - last_report >= report_every:
                report(statistics())
                last_report = done
            if max_seconds and captured - t0 >= max_seconds:
                break
        source.close()    # first: a pose thread waiting for a frame then sees the end
        frames.close()
        live.close()
    except BaseException:
        source.close()
        frames.close()
        live.stop()
        if writer:
            writer.abort()
        raise
    if writer:
        writer.commit()
    return statistics()
