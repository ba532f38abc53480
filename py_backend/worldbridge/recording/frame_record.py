"""One recorded frame: its record in memory and its JSON entry on disk.

The same JSON object is one line of the journal ``frames.jsonl`` and one element of
``frames`` in ``transforms.json``. nerfstudio reads ``file_path``, ``depth_file_path``,
``fl_x``, ``fl_y``, ``cx``, ``cy``, ``w``, ``h`` and ``transform_matrix`` (OpenGL
camera-to-world, the convention of nerfstudio and instant-ngp) and ignores the rest;
worldbridge adds:

=========================  =================================================================
``frame_index``            0-based position in the recording
``engine_transform_matrix`` the camera-to-world exactly as the engine sent it (4x4, column-
                           vector convention, engine units: centimetres for UNREAL)
``engine_convention``      ``UNREAL``, ``UNITY``, ``OPENGL`` or ``OPENCV``
``timestamp_us``           the client's timestamp, microseconds
``sequence``               the client's sequence number
``has_depth``              false when the engine sent no depth (the depth PNG is all 0)
``depth_clipped_px``       finite depth pixels beyond 65.535 m stored as 0
=========================  =================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from worldbridge.geometry import (
    Convention,
    Intrinsics,
    IntrinsicsError,
    PoseError,
    opencv_to_opengl_c2w,
    opengl_to_opencv_c2w,
    validate_rigid,
)
from worldbridge.recording.errors import DatasetError
from worldbridge.recording.layout import depth_relpath, rgb_relpath

__all__ = ["FrameRecord", "make_frame_entry", "parse_frame_entry"]


@dataclass(frozen=True, eq=False)
class FrameRecord:
    """A recorded frame as the reader returns it.

    Attributes:
        index: 0-based frame index.
        rgb_path: absolute path of the RGB PNG.
        depth_path: absolute path of the uint16 millimetre depth PNG, or None when the
            dataset lists no depth file for this frame (datasets not written by worldbridge).
        intrinsics: pinhole intrinsics, pixels.
        c2w_cv: ``[4, 4]`` float64 OpenCV camera-to-world, metres (the backend's frame).
        engine_c2w: ``[4, 4]`` float64 camera-to-world as the engine sent it, in the
            engine's units and ``convention``.
        convention: the convention of ``engine_c2w``.
        timestamp_us: client timestamp, microseconds.
        sequence: client sequence number.
        has_depth: whether the engine sent depth (False: the depth PNG is all invalid).
        depth_clipped_px: finite depth pixels beyond 65.535 m that were stored as 0.
    """

    index: int
    rgb_path: Path
    depth_path: Path | None
    intrinsics: Intrinsics
    c2w_cv: np.ndarray
    engine_c2w: np.ndarray
    convention: Convention
    timestamp_us: int
    sequence: int
    has_depth: bool
    depth_clipped_px: int = 0


def _matrix(m: np.ndarray) -> list[list[float]]:
    return [[float(v) for v in row] for row in np.asarray(m, dtype=np.float64)]


def make_frame_entry(index: int, intrinsics: Intrinsics, c2w_cv: np.ndarray,
                     engine_c2w: np.ndarray, convention: Convention, timestamp_us: int,
                     sequence: int, has_depth: bool, depth_clipped_px: int = 0) -> dict[str, Any]:
    """Build the JSON entry of one frame (journal line and ``transforms.json`` element).

    Args:
        index: 0-based frame index; names the files.
        intrinsics: pinhole intrinsics, pixels.
        c2w_cv: ``[4, 4]`` OpenCV camera-to-world, metres; stored as the OpenGL
            ``transform_matrix`` nerfstudio expects.
        engine_c2w: ``[4, 4]`` engine camera-to-world as sent.
        convention: convention of ``engine_c2w``.
        timestamp_us: client timestamp, microseconds.
        sequence: client sequence number.
        has_depth: whether the engine sent depth.
        depth_clipped_px: depth pixels beyond 65.535 m stored as 0.

    Returns:
        A JSON-serialisable dict (floats are Python floats and round-trip exactly).
    """
    return {
        "frame_index": int(index),
        "file_path": rgb_relpath(index),
        "depth_file_path": depth_relpath(index),
        "fl_x": float(intrinsics.fx), "fl_y": float(intrinsics.fy),
        "cx": float(intrinsics.cx), "cy": float(intrinsics.cy),
        "w": int(intrinsics.width), "h": int(intrinsics.height),
        "transform_matrix": _matrix(opencv_to_opengl_c2w(c2w_cv)),
        "engine_transform_matrix": _matrix(engine_c2w),
        "engine_convention": Convention(convention).name,
        "timestamp_us": int(timestamp_us),
        "sequence": int(sequence),
        "has_depth": bool(has_depth),
        "depth_clipped_px": int(depth_clipped_px),
    }


def _read_matrix(value: Any, key: str) -> np.ndarray:
    m = np.asarray(value, dtype=np.float64)
    if m.shape == (3, 4):
        m = np.vstack([m, [0.0, 0.0, 0.0, 1.0]])
    if m.shape != (4, 4):
        raise ValueError(f"{key} must be 4x4 (or 3x4), got shape {m.shape}")
    return validate_rigid(m, key)


def parse_frame_entry(entry: Any, dataset_dir: Path, position: int,
                      defaults: dict[str, Any] | None = None) -> FrameRecord:
    """Turn one JSON frame entry back into a :class:`FrameRecord`.

    Entries written by worldbridge carry every field. Plain nerfstudio entries are read
    too: intrinsics missing from the frame come from ``defaults`` (the top level of
    ``transforms.json``), the engine pose is the OpenGL ``transform_matrix`` itself
    (convention ``OPENGL``), the timestamp is 0 and the sequence is the position.

    Args:
        entry: the parsed JSON object.
        dataset_dir: the dataset directory; file paths are relative to it.
        position: the entry's position in the list (its index when ``frame_index`` is absent).
        defaults: top-level ``transforms.json`` keys (``fl_x`` ... ``h``), if any.

    Raises:
        DatasetError: a missing key, a wrong type, non-rigid matrix or bad intrinsics; the
            message names the frame and the dataset directory.
    """
    defaults = defaults or {}
    try:
        if not isinstance(entry, dict):
            raise ValueError(f"expected a JSON object, got {type(entry).__name__}")

        def field(key: str) -> Any:
            if key in entry:
                return entry[key]
            if key in defaults:
                return defaults[key]
            raise ValueError(f"missing key {key!r}")

        intrinsics = Intrinsics(float(field("fl_x")), float(field("fl_y")), float(field("cx")),
                                float(field("cy")), int(field("w")), int(field("h")))
        c2w_cv = opengl_to_opencv_c2w(_read_matrix(field("transform_matrix"), "transform_matrix"))
        if "engine_transform_matrix" in entry:
            engine_c2w = _read_matrix(entry["engine_transform_matrix"], "engine_transform_matrix")
            name = str(field("engine_convention"))
            if name not in Convention.__members__ or name == "UNSPECIFIED":
                raise ValueError(f"unknown engine_convention {name!r}")
            convention = Convention[name]
        else:
            engine_c2w, convention = opencv_to_opengl_c2w(c2w_cv), Convention.OPENGL
        depth_rel = entry.get("depth_file_path")
        return FrameRecord(
            index=int(entry.get("frame_index", position)),
            rgb_path=dataset_dir / str(field("file_path")),
            depth_path=None if depth_rel is None else dataset_dir / str(depth_rel),
            intrinsics=intrinsics,
            c2w_cv=c2w_cv,
            engine_c2w=engine_c2w,
            convention=convention,
            timestamp_us=int(entry.get("timestamp_us", 0)),
            sequence=int(entry.get("sequence", position)),
            has_depth=bool(entry.get("has_depth", depth_rel is not None)),
            depth_clipped_px=int(entry.get("depth_clipped_px", 0)),
        )
    except (KeyError, ValueError, TypeError, PoseError, IntrinsicsError) as e:
        raise DatasetError(f"dataset {dataset_dir}: frame {position} is malformed: "
                           f"{e!s}") from e
