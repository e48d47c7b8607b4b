"""Atomic file writes: a reader sees the old file or the new one, never half of one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable


def write_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], None] | bytes) -> Path:
    """Write ``path`` through a temporary file in the same folder, flushed to disk, then renamed
    over ``path`` (``os.replace``). ``write`` is the bytes, or a function writing to the open
    binary file. If it raises, the temporary file is removed and ``path`` is untouched.
    Returns ``path`` as a :class:`~pathlib.Path`.

    Raises:
        IsADirectoryError: ``path`` is a folder. FileNotFoundError: its folder does not exist.
        Both name the path; other OSErrors are the system's.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give the path of a file to write")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: its folder {path.parent} does not exist")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # what a plain open() would give, not mkstemp's 0600
        with os.fdopen(fd, "wb") as f:
            if isinstance(write, bytes):
                f.write(write)
            else:
                write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
