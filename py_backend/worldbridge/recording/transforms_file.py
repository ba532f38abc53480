"""``transforms.json``: the nerfstudio metadata file of a recording.

Top level::

    {"camera_model": "OPENCV",          # pinhole (no distortion keys) -> nerfstudio PERSPECTIVE
     "worldbridge": {...},              # see :func:`worldbridge_section`
     "frames": [ <frame entry>, ... ]}  # see worldbridge.recording.frame_record

Intrinsics are per frame (nerfstudio accepts ``fl_x`` ... ``h`` per frame when the top
level has none), so a recording may change resolution or field of view. The file is
rebuilt from cached per-frame JSON text and replaced atomically; while recording it may lag
the journal (``"complete": false``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from worldbridge import __version__
from worldbridge.atomic_io import atomic_write_bytes
from worldbridge.recording.layout import FORMAT_VERSION, JOURNAL_FILE, TRANSFORMS_FILE
from worldbridge.recording.png_codec import DEPTH_MAX_M

__all__ = ["worldbridge_section", "render_transforms", "write_transforms"]


def worldbridge_section(num_frames: int, complete: bool, created_utc: str,
                        metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``"worldbridge"`` object of ``transforms.json``.

    Args:
        num_frames: frames listed in this file.
        complete: True once the writer closed (or :func:`repair_dataset` ran): the file
            then lists every recorded frame; False while recording (the journal may hold more).
        created_utc: ISO 8601 UTC time the recording started.
        metadata: caller's JSON-serialisable extras (session, level, generator ...).
    """
    return {
        "version": FORMAT_VERSION,
        "writer": f"worldbridge {__version__}",
        "created_utc": created_utc,
        "complete": bool(complete),
        "num_frames": int(num_frames),
        "journal": JOURNAL_FILE,
        "transform_matrix": "OpenGL camera-to-world (nerfstudio), metres, backend world frame",
        "depth_unit": "mm",
        "depth_unit_scale_factor": 1e-3,
        "depth_kind": "planar_z",
        "depth_invalid_value": 0,
        "depth_max_m": DEPTH_MAX_M,
        "metadata": dict(metadata or {}),
    }


def render_transforms(frame_json: Sequence[str], section: dict[str, Any]) -> bytes:
    """Assemble ``transforms.json`` from already-serialised frame entries.

    Args:
        frame_json: compact JSON text of each frame entry, in frame order.
        section: the ``"worldbridge"`` object.

    Returns:
        UTF-8 JSON text, one frame per line.
    """
    head = ('{\n"camera_model": "OPENCV",\n"worldbridge": '
            + json.dumps(section, sort_keys=True) + ',\n"frames": [')
    body = ",\n".join(frame_json)
    return (head + ("\n" + body + "\n" if frame_json else "") + "]\n}\n").encode("utf-8")


def write_transforms(dataset_dir: Path, frame_json: Sequence[str], section: dict[str, Any],
                     fsync: bool = False) -> float:
    """Atomically replace ``<dataset_dir>/transforms.json``.

    Returns:
        Seconds the render and write took (callers space rewrites by it).

    Raises:
        OSError: the write failed; the previous file is untouched.
    """
    start = time.perf_counter()
    atomic_write_bytes(dataset_dir / TRANSFORMS_FILE, render_transforms(frame_json, section),
                       fsync=fsync)
    return time.perf_counter() - start
