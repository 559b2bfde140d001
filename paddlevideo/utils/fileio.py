"""Atomic file writes: a reader (or a crash) never sees half a file, and the old file survives a failed write."""
import os
import tempfile


def umask():
    """The process's umask, read without setting it (os.umask's read-by-setting races with other threads)."""
    try:
        with open('/proc/self/status') as f:
            return next(int(line.split()[1], 8) for line in f if line.startswith('Umask:'))
    except (OSError, StopIteration, ValueError):
        return 0o022


def atomic_write(path, write):
    """Call write(binary file object) on a temporary file beside `path`, then rename it into place.

    The file reaches the disk before the rename, and the rename before we return (fsync of the file and of its
    folder), so a power cut leaves the old file or the new one; it gets the mode a plain open() would give
    (mkstemp's is 0600).
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp_')
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
        directory = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(path, text):
    atomic_write(path, lambda f: f.write(text.encode()))


def check_output_file(path, what='output'):
    """Raise DataError now, before any work, if `path` cannot be written as a file: it is a folder, or a file
    stands where one of its folders should be."""
    from .errors import DataError

    if os.path.isdir(path):
        raise DataError(f'{what} {path} is a folder; expected a file name')
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(folder):
        folder = os.path.dirname(folder)
    if not os.path.isdir(folder):
        raise DataError(f'{what} {path}: {folder} is a file, not a folder')
