"""Atomic file replacement, the one implementation: write to a temporary name beside the
target, then ``os.replace`` it into place.

A reader sees either the old file or the complete new one, never a prefix; a write cut off
(crash, kill, full disk) leaves only a ``.<name>.tmp`` file, which
:func:`~worldbridge.recording.repair_dataset` and the bundle exporter ignore or remove.
``os.replace`` is atomic on POSIX and on Windows (same volume). Against power loss the data
must also reach the disk: pass ``fsync=True``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["TEMP_SUFFIX", "temp_path", "atomic_path", "atomic_write_bytes", "atomic_write_text",
           "fsync_directory"]

TEMP_SUFFIX = ".tmp"


def temp_path(final: Path) -> Path:
    """Where ``final`` is written before its atomic rename: ``.<name>.tmp`` beside it."""
    final = Path(final)
    return final.with_name(f".{final.name}{TEMP_SUFFIX}")


def fsync_directory(directory: Path) -> None:
    """Flush a directory entry (a rename or a new file) to disk; a no-op where directories
    cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def atomic_path(path: str | os.PathLike[str], fsync: bool = False) -> Iterator[Path]:
    """Yield the temporary path to write ``path``'s new contents to (by any writer that takes
    a path: safetensors, ONNX, ``torch.save``); when the block ends without an exception the
    temporary file replaces ``path``, otherwise it is removed and ``path`` is unchanged.

    Args:
        path: final file path; its directory must exist.
        fsync: also flush the file and the directory entry to disk.

    Raises:
        OSError: the rename failed (the temporary file is removed).
    """
    final = Path(path)
    tmp = temp_path(final)
    try:
        yield tmp
        if fsync:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    if fsync:
        fsync_directory(final.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes | memoryview, fsync: bool = False) -> None:
    """Write ``data`` to ``path`` atomically.

    Args:
        path: final file path; its directory must exist.
        data: the complete file contents.
        fsync: also flush the file and the directory entry to disk (survives power loss,
            costs a few milliseconds per call).

    Raises:
        OSError: the write or rename failed; the temporary file is removed and ``path``
            keeps its previous contents.
    """
    with atomic_path(path, fsync) as tmp, open(tmp, "wb") as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str, fsync: bool = False) -> None:
    """:func:`atomic_write_bytes` of ``text`` in UTF-8."""
    atomic_write_bytes(path, text.encode("utf-8"), fsync)
