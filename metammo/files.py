"""Atomic file writes (a reader sees the old file or the new one, never half of one), and the
plain data that JSON and YAML files, summaries and task trees hold."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, BinaryIO, Callable, Mapping

import numpy as np


def plain(value: Any) -> Any:
    """``value`` as plain Python data: numpy scalars and arrays made Python numbers and lists,
    mappings dicts (with string keys), tuples lists; anything else as it is."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def write_atomic(path: str | os.PathLike, write: Callable[[BinaryIO], None] | bytes) -> Path:
    """Write ``path`` through a temporary file in the same folder, flushed to disk, then renamed
    over ``path`` (``os.replace``). ``write`` is the bytes, or a function writing to the open
    binary file. If it raises, the temporary file is removed and ``path`` is untouched.
    Returns ``path`` as a :class:`~pathlib.Path`.

    Raises:
        IsADirectoryError: ``path`` is a folder. FileNotFoundError: its folder does not exist.
        NotADirectoryError: its folder is a file. Other OSErrors are the system's; all name the
        path.
    """
    path = Path(path)
    fd, tmp = _temporary(path)
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


def check_writable(path: str | os.PathLike) -> None:
    """Check that :func:`write_atomic` can write ``path`` (its folder exists and takes a new
    file of the temporary file's name) without writing it, so a long job can refuse a bad output
    path before it starts.

    Raises:
        OSError: as :func:`write_atomic` would.
    """
    fd, tmp = _temporary(Path(path))
    os.close(fd)
    os.unlink(tmp)


def _temporary(path: Path) -> tuple[int, str]:
    """A new temporary file beside ``path``: ``(fd, its path)``."""
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a folder; give the path of a file to write")
    if path.parent.exists() and not path.parent.is_dir():
        raise NotADirectoryError(f"cannot write {path}: its folder {path.parent} is not a folder")
    if not path.parent.is_dir():
        raise FileNotFoundError(f"cannot write {path}: its folder {path.parent} does not exist")
    try:
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:  # the system's error, named for the path asked for, not the temporary one
        raise type(err)(f"cannot write {path}: {err.strerror}") from None
