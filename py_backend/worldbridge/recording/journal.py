"""The frame journal ``frames.jsonl``: append-only, one JSON object per line, frame order.

A line is appended only after the frame's image files have been renamed into place, with a
single ``write`` system call, so a process killed at any instant leaves a journal whose
complete lines all describe frames that are fully on disk. At most the last line can be
torn (power loss, or a full disk mid-write); readers ignore a torn last line.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worldbridge.recording.errors import DatasetError

__all__ = ["JournalAppender", "JournalContents", "read_journal"]


class JournalAppender:
    """Appends lines to a new journal file.

    Args:
        path: the journal file; it must not exist yet.
        fsync: flush every line to disk before :meth:`append` returns (power-loss safe).

    Raises:
        FileExistsError: ``path`` exists.
        OSError: the file cannot be created.
    """

    def __init__(self, path: Path, fsync: bool = False) -> None:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND | getattr(os, "O_BINARY", 0)
        self._fd = os.open(path, flags, 0o644)
        self._fsync = fsync

    def append(self, line: str) -> None:
        """Append one line (``line`` must not contain a newline; one is added).

        Raises:
            OSError: the write failed (for example a full disk).
        """
        data = memoryview((line + "\n").encode("utf-8"))
        while data:
            n = os.write(self._fd, data)
            data = data[n:]
        if self._fsync:
            os.fsync(self._fd)

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


@dataclass
class JournalContents:
    """What :func:`read_journal` found.

    Attributes:
        entries: the parsed JSON objects of the complete lines, in order.
        valid_bytes: length of the file prefix holding those lines.
        torn_tail: whether bytes after that prefix (a torn last line) were ignored.
    """

    entries: list[Any] = field(default_factory=list)
    valid_bytes: int = 0
    torn_tail: bool = False


def read_journal(path: Path) -> JournalContents:
    """Parse a journal, tolerating a torn last line.

    Args:
        path: the ``frames.jsonl`` file.

    Returns:
        The complete entries; a last line that does not parse (or is not a JSON object) is
        reported as ``torn_tail`` and left out.

    Raises:
        OSError: the file cannot be read.
        DatasetError: a line other than the last one does not parse (the file was edited or
            damaged); the message names the file and the line number.
    """
    data = Path(path).read_bytes()
    out = JournalContents()
    lines = data.split(b"\n")
    offset = 0
    for number, raw in enumerate(lines, start=1):
        is_last = number == len(lines)
        if is_last and not raw:  # the file ends with a newline
            break
        try:
            entry = json.loads(raw)
            if not isinstance(entry, dict):
                raise ValueError("not a JSON object")
        except ValueError as e:  # json.JSONDecodeError and UnicodeDecodeError are ValueErrors
            if number >= len(lines) - 1 and (is_last or not lines[-1]):
                out.torn_tail = True  # the last line: torn by a crash mid-write
                break
            raise DatasetError(f"journal {path} line {number} is corrupt: {e}") from e
        out.entries.append(entry)
        offset += len(raw) + (0 if is_last else 1)
        out.valid_bytes = offset
    return out
