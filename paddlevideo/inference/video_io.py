"""Video input for the pose path, the demo and the live camera: frames streamed from OpenCV, never all in memory.

open_video takes a file, a camera index ("0") or a stream URL; a video that is missing, unreadable or decodes no
frame is one DataError naming it. cv2 is imported only here and only when a video is opened, so the data tools
that never read video (OpenPose JSON) do not need OpenCV.
"""
import contextlib
import ctypes
import math
import os
import sys
import threading

from ..utils.errors import ConfigError, DataError
from ..utils.fileio import check_input_file

VIDEO_REQUIREMENTS = 'python -m pip install --no-deps -r requirements-video.txt'
_LIBC = ctypes.CDLL(None)
_SILENCE_LOCK = threading.Lock()
_SILENCE = {'depth': 0, 'saved': None}  # one redirection of fd 2 shared by the threads inside


@contextlib.contextmanager
def native_stderr_silenced():
    """Native libraries' chatter on fd 2 goes to /dev/null meanwhile: FFmpeg's decoder complaints (our DataError
    says it in one line), MediaPipe's TFLite / absl notices from its graph threads, some through C's buffered
    stdio. A tool's stderr then carries only its own lines; Python exceptions pass through as usual. fd 2 is one
    per process: nested and concurrent uses (a reader thread beside the pose thread) share one redirection, undone
    when the last of them ends."""
    with _SILENCE_LOCK:
        if not _SILENCE['depth']:
            sys.stderr.flush()
            _SILENCE['saved'] = os.dup(2)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            os.close(devnull)
        _SILENCE['depth'] += 1
    try:
        yield
    finally:
        with _SILENCE_LOCK:
            _SILENCE['depth'] -= 1
            if not _SILENCE['depth']:
                _LIBC.fflush(None)
                os.dup2(_SILENCE['saved'], 2)
                os.close(_SILENCE['saved'])


def import_cv2():
    try:
        import cv2
    except ImportError:
        raise ConfigError(f'reading video needs OpenCV, which is not installed: {VIDEO_REQUIREMENTS}') from None
    return cv2


def _is_camera(source):
    return isinstance(source, int) or (isinstance(source, str) and source.isdigit())


class Video:
    """An opened video: `fps` (0.0 where the source does not say), `size` (W, H) from the first decoded frame,
    `frame_count` (the container's figure: approximate for some codecs, 0 for cameras and streams) and iteration
    over BGR uint8 frames. A file can be iterated again (it is reopened); a camera or stream goes on from where
    it is. A context manager; close() releases the capture."""

    def __init__(self, source):
        self.source = source
        self.name = f'camera {source}' if _is_camera(source) else str(source)
        is_url = isinstance(source, str) and '://' in source
        if not _is_camera(source) and not is_url:
            check_input_file(source, 'video')
        cv2 = import_cv2()
        with native_stderr_silenced():
            self._capture = cv2.VideoCapture(int(source) if _is_camera(source) else str(source))
        if not self._capture.isOpened():
            self._capture.release()
            raise DataError(f'{self.name}: cannot be opened as a video (OpenCV found no reader for it)')
        ok, frame = self._read_one()
        if not ok or frame is None:
            self._capture.release()
            raise DataError(f'{self.name}: no frame could be decoded (not a video, or a corrupt one)')
        self._first = frame
        self._started = False
        self.size = (frame.shape[1], frame.shape[0])
        fps = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if math.isfinite(fps) and fps > 0 else 0.0
        count = self._capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self.frame_count = int(count) if math.isfinite(count) and count > 0 else 0

    @property
    def is_file(self):
        return not _is_camera(self.source) and '://' not in str(self.source)

    def __iter__(self):
        if self._capture is None:
            raise DataError(f'{self.name}: the video was closed')
        if self._started:
            if not self.is_file:
                yield from self._read()
                return
            self._capture.release()
            with native_stderr_silenced():
                self._capture = import_cv2().VideoCapture(str(self.source))
        else:
            self._started = True
            first, self._first = self._first, None
            yield first
        yield from self._read()

    def _read_one(self):
        with native_stderr_silenced():
            return self._capture.read()

    def _read(self):
        while True:
            ok, frame = self._read_one()
            if not ok:
                return
            yield frame

    def close(self):
        if self._capture is not None:
            self._capture.release()
            self._capture = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def open_video(source):
    """A file path, a camera index (an int or a digit string such as "0") or a stream URL -> Video."""
    return Video(source)
