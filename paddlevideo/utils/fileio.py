"""Atomic file writes: a reader (or a crash) never sees half a file, and the old file survives a failed write."""
import os
import tempfile


def atomic_write(path, write):
    """Call write(binary file object) on a temporary file beside `path`, then rename it into place."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp_')
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(path, text):
    atomic_write(path, lambda f: f.write(text.encode()))
