"""Atomic file writes: a reader (or a crash) never sees half a file, and the old file survives a failed write.
And the checks every entry point makes of the paths it is given, before any work: a file to read, a file or a
folder to write."""
import os
import tempfile

from .errors import DataError


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


def check_input_file(path, what='input file', error=DataError):
    """Raise `error` unless `path` is an existing file (a folder is named as one, not as missing)."""
    if os.path.isdir(path):
        raise error(f'{path} is a folder; expected a {what}')
    if not os.path.isfile(path):
        raise error(f'{what} not found: {path}')


def check_output_file(path, what='output', reads=()):
    """Raise DataError now, before any work, if `path` cannot be written as a file: it is empty or a folder, a
    file stands where one of its folders should be, the nearest existing folder above it is not writable
    (missing folders are created when the file is written), or it is one of the files the run `reads` (which
    writing it would destroy)."""
    if not str(path):
        raise DataError(f'{what} is empty; expected a file name')
    if str(path).endswith(os.sep) or os.path.isdir(path):
        raise DataError(f'{what} {path} is a folder; expected a file name')
    _check_can_create(os.path.dirname(os.path.abspath(path)), path, what)
    if os.path.isfile(path):
        for source in reads:
            if source and os.path.isfile(source) and os.path.samefile(path, source):
                raise DataError(f'{what} {path} is also an input of this run ({source}): writing it would destroy '
                                f'it')


def check_output_folder(path, what='output folder'):
    """Raise DataError now, before any work, if `path` cannot be a folder to write files into: it is empty or a
    file, a file stands where one of the folders above it should be, or it cannot be written (or created)."""
    if not str(path):
        raise DataError(f'{what} is empty; expected a folder')
    if os.path.exists(path) and not os.path.isdir(path):
        raise DataError(f'{what} {path} is a file; expected a folder')
    _check_can_create(os.path.abspath(path), path, what)


def _check_can_create(folder, path, what):
    """`folder` exists and is writable, or can be created: its nearest existing ancestor is a writable folder."""
    existing = folder
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise DataError(f'{what} {path}: {existing} is a file, not a folder')
    if not os.access(existing, os.W_OK | os.X_OK):
        raise DataError(f'{what} {path}: the folder {existing} is not writable')
