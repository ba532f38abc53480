"""Add caller metadata to a finished recording's ``transforms.json``.

A recording's ``worldbridge.metadata`` object (see
:func:`~worldbridge.recording.transforms_file.worldbridge_section`) holds the caller's
JSON extras; :class:`~worldbridge.recording.DatasetWriter` writes it when it is given
``metadata``. A client that streams frames through ``RecordTrajectory`` does not own the
writer, so when it can reach the dataset directory afterwards (a local server, a shared
disk) it adds what it knows about the trajectory here: which scene layout was drawn, the
seed, the split. The file format is unchanged; readers find the keys in
``load_dataset(path).info["metadata"]``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from worldbridge.recording.dataset_reader import _read_transforms
from worldbridge.recording.errors import DatasetError, DatasetNotFoundError
from worldbridge.recording.layout import TRANSFORMS_FILE
from worldbridge.recording.transforms_file import write_transforms

__all__ = ["update_dataset_metadata"]


def update_dataset_metadata(path: str | Path, updates: dict[str, Any]) -> dict[str, Any]:
    """Merge ``updates`` into ``worldbridge.metadata`` of a complete recording.

    The frames, the other ``worldbridge`` keys and the frame files are left as they are;
    ``transforms.json`` is replaced atomically (a reader sees the old or the new file).
    Keys already present are overwritten by ``updates``. Do not call it while a writer
    is still recording into ``path``.

    Args:
        path: the dataset directory (or its ``transforms.json``).
        updates: JSON-serialisable keys and values.

    Returns:
        The metadata object now stored.

    Raises:
        DatasetNotFoundError: no ``transforms.json`` at ``path``.
        DatasetError: ``transforms.json`` is unreadable, is not a WorldBridge recording, or
            is not marked complete (still recording, or cut off: run
            :func:`~worldbridge.recording.repair_dataset` first).
        TypeError: ``updates`` is not a dict or not JSON-serialisable.
        OSError: the file could not be written; the old file is untouched.
    """
    if not isinstance(updates, dict):
        raise TypeError(f"updates must be a dict, got {type(updates).__name__}")
    updates = json.loads(json.dumps(updates))  # own it, and fail here if not JSON
    path = Path(path)
    if path.name == TRANSFORMS_FILE and path.is_file():
        path = path.parent
    meta = _read_transforms(path)
    if meta is None:
        raise DatasetNotFoundError(f"no {TRANSFORMS_FILE} in {path}")
    section = meta.get("worldbridge")
    if not isinstance(section, dict):
        raise DatasetError(f"dataset {path}: {TRANSFORMS_FILE} has no \"worldbridge\" section "
                           "(not written by WorldBridge)")
    if not section.get("complete", False):
        raise DatasetError(f"dataset {path}: {TRANSFORMS_FILE} is not complete (a writer may "
                           "still be recording, or it was cut off; repair_dataset first)")
    metadata = dict(section.get("metadata") or {})
    metadata.update(updates)
    section = dict(section, metadata=metadata)
    lines = [json.dumps(e, separators=(",", ":")) for e in meta["frames"]]
    write_transforms(path, lines, section)
    return metadata
