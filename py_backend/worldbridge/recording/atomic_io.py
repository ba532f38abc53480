"""Atomic file replacement: write to a temporary name, then ``os.replace`` it into place.

A reader (or a process restarted after ``kill -9``) sees either the old file or the whole
new one, never a prefix. ``os.replace`` is atomic on POSIX and on Windows (same volume).
Against power loss the data must also reach the disk: pass ``fsync=True``.
"""

from __future__ import annotations

import os
from pathlib import Path

from worldbridge.recording.layout import temp_path

__all__ = ["atomic_write_bytes", "fsync_directory"]


def fsync_directory(directory: Path) -> None:
    """Flush a directory entry (a rename) to disk; a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # Windows: directories cannot be opened; renames are journaled by NTFS
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes | memoryview, fsync: bool = False) -> None:
    """Write ``data`` to ``path`` atomically (temp file ``.<name>.tmp`` + ``os.replace``).

    Args:
        path: final file path; its directory must exist.
        data: the complete file contents.
        fsync: also flush the file and the directory entry to disk (survives power loss,
            costs a few milliseconds per call).

    Raises:
        OSError: the write or rename failed; the temporary file is removed and ``path``
            keeps its previous contents.
    """
    tmp = temp_path(path)
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            if fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if fsync:
        fsync_directory(path.parent)
