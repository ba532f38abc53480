"""On-disk layout of a recorded trajectory and the rule for dataset names.

A dataset is one directory ``<root>/<name>/`` (nerfstudio-compatible)::

    transforms.json          nerfstudio metadata; rewritten atomically, may lag the journal
    frames.jsonl             journal: one JSON object per frame, in frame order (the truth)
    images/frame_00000.png   RGB, 8 bit
    depth/frame_00000.png    planar z, uint16 millimetres, 0 = invalid / sky / beyond 65.535 m

Frame files are numbered from 0 with at least five digits (``frame_00000`` ..
``frame_99999``, then ``frame_100000``; nerfstudio sorts frames by file name, which only
changes its frame order, never pairs a file with another frame's pose).
Files being written carry a leading dot and a ``.tmp`` suffix until they are renamed into
place, so a half-written file never has a frame's name.
"""

from __future__ import annotations

import re
from pathlib import Path

from worldbridge.atomic_io import TEMP_SUFFIX, temp_path
from worldbridge.recording.errors import DatasetNameError

__all__ = [
    "FORMAT_VERSION", "TRANSFORMS_FILE", "JOURNAL_FILE", "IMAGES_DIR", "DEPTH_DIR",
    "TEMP_SUFFIX", "NAME_PATTERN", "rgb_relpath", "depth_relpath", "temp_path",
    "validate_dataset_name", "dataset_path",
]

FORMAT_VERSION = 1
"""Version of the ``worldbridge`` section of ``transforms.json`` and of the journal lines."""

TRANSFORMS_FILE = "transforms.json"
JOURNAL_FILE = "frames.jsonl"
IMAGES_DIR = "images"
DEPTH_DIR = "depth"

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
"""Accepted dataset names: 1 to 128 characters, letters, digits, ``.``, ``_``, ``-``, not
starting with ``.`` (so ``.``, ``..`` and hidden names are refused) and without separators."""


def _stem(index: int) -> str:
    return f"frame_{index:05d}"


def rgb_relpath(index: int) -> str:
    """``images/frame_00042.png`` for frame 42 (POSIX separators, relative to the dataset)."""
    return f"{IMAGES_DIR}/{_stem(index)}.png"


def depth_relpath(index: int) -> str:
    """``depth/frame_00042.png`` for frame 42 (POSIX separators, relative to the dataset)."""
    return f"{DEPTH_DIR}/{_stem(index)}.png"



def validate_dataset_name(name: str) -> str:
    """Check a dataset name against :data:`NAME_PATTERN`.

    Args:
        name: the dataset's directory name, as a client sent it.

    Returns:
        ``name`` unchanged.

    Raises:
        DatasetNameError: not a string, empty, longer than 128 characters, containing a
            path separator or any character outside ``[A-Za-z0-9._-]``, or starting with
            ``.`` (``.``, ``..``).
    """
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        shown = repr(name) if not isinstance(name, str) or len(name) <= 200 else \
            f"{name[:64]!r}... ({len(name)} characters)"
        raise DatasetNameError(
            f"invalid dataset name {shown}: use 1-128 characters from [A-Za-z0-9._-], "
            "starting with a letter or digit (no path separators)")
    return name


def dataset_path(root: str | Path, name: str) -> Path:
    """The directory of dataset ``name`` under ``root``, checked to stay inside ``root``.

    Args:
        root: the recordings root directory (need not exist yet).
        name: the dataset name.

    Returns:
        The absolute, resolved path ``<root>/<name>``.

    Raises:
        DatasetNameError: ``name`` fails :func:`validate_dataset_name`, or the resolved
            path (following any symlink already at ``<root>/<name>``) is not a direct child
            of the resolved root.
    """
    validate_dataset_name(name)
    root_resolved = Path(root).resolve()
    path = (root_resolved / name).resolve()
    if path.parent != root_resolved:
        raise DatasetNameError(f"dataset name {name!r} resolves to {path}, outside the "
                               f"recordings root {root_resolved}")
    return path
