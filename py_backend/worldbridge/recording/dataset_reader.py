"""Load a recorded dataset (crash-safe: the journal is the truth) and repair one.

Which frame list is used:

1. ``transforms.json`` with ``"worldbridge": {"complete": true}`` (the writer closed, or a
   repair ran; also honours later hand edits of that file);
2. otherwise the journal ``frames.jsonl`` (a recording cut off mid-way: ``transforms.json``
   lags it), ignoring a torn last line;
3. otherwise ``transforms.json`` alone (a nerfstudio dataset not written by worldbridge).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from worldbridge.atomic_io import atomic_write_bytes
from worldbridge.geometry.views import Camera, PosedView
from worldbridge.recording.errors import DatasetError, DatasetNotFoundError
from worldbridge.recording.frame_record import FrameRecord, parse_frame_entry
from worldbridge.recording.journal import read_journal
from worldbridge.recording.layout import (
    DEPTH_DIR,
    IMAGES_DIR,
    JOURNAL_FILE,
    TEMP_SUFFIX,
    TRANSFORMS_FILE,
)
from worldbridge.recording.png_codec import decode_depth_png, decode_rgb_png
from worldbridge.recording.transforms_file import worldbridge_section, write_transforms

__all__ = ["Dataset", "RepairReport", "load_dataset", "repair_dataset"]

_INTRINSIC_KEYS = ("fl_x", "fl_y", "cx", "cy", "w", "h")


@dataclass
class Dataset:
    """A recorded trajectory on disk.

    Attributes:
        path: the dataset directory.
        frames: one :class:`~worldbridge.recording.FrameRecord` per frame, in frame order.
        info: the ``"worldbridge"`` section of ``transforms.json`` (``{}`` for other
            nerfstudio datasets); ``info["metadata"]`` holds the writer's metadata.
        complete: True when the recording was closed (or repaired); False when it was cut
            off or is still being written (the frames are those committed so far).
        source: ``"transforms.json"`` or ``"frames.jsonl"``: where ``frames`` came from.
    """

    path: Path
    frames: list[FrameRecord]
    info: dict[str, Any] = field(default_factory=dict)
    complete: bool = False
    source: str = TRANSFORMS_FILE

    def __len__(self) -> int:
        return len(self.frames)

    def __getitem__(self, index: int) -> FrameRecord:
        return self.frames[index]

    def __iter__(self) -> Iterator[FrameRecord]:
        return iter(self.frames)

    def read_rgb(self, index: int) -> np.ndarray:
        """Frame ``index``'s image.

        Returns:
            ``[H, W, 3]`` uint8 RGB, top row first.

        Raises:
            IndexError: no such frame.
            DatasetError: the file is missing, unreadable or not the recorded size.
        """
        frame = self.frames[index]
        try:
            rgb = decode_rgb_png(frame.rgb_path)
        except ValueError as e:
            raise DatasetError(f"dataset {self.path}: frame {index}: {e}") from e
        _check_size(self.path, frame, rgb.shape[:2], frame.rgb_path)
        return rgb

    def read_depth(self, index: int) -> np.ndarray:
        """Frame ``index``'s depth.

        Returns:
            ``[H, W]`` float32 planar z (OpenCV +Z), metres, millimetre steps; 0 where
            invalid, sky, beyond 65.535 m or not sent (``frames[index].has_depth`` False).

        Raises:
            IndexError: no such frame.
            DatasetError: the frame lists no depth file, or it is missing, unreadable or
                not the recorded size.
        """
        frame = self.frames[index]
        if frame.depth_path is None:
            raise DatasetError(f"dataset {self.path}: frame {index} has no depth file")
        try:
            depth = decode_depth_png(frame.depth_path)
        except ValueError as e:
            raise DatasetError(f"dataset {self.path}: frame {index}: {e}") from e
        _check_size(self.path, frame, depth.shape, frame.depth_path)
        return depth

    def read_view(self, index: int, *, sky_as_inf: bool = False) -> PosedView:
        """Frame ``index`` as a :class:`~worldbridge.geometry.views.PosedView`: its camera
        (OpenCV c2w, metres, checked here), RGB and depth (as :meth:`read_depth`).

        Args:
            index: the frame.
            sky_as_inf: depth 0 (invalid or sky in a recording) read as +inf (sky), as an
                engine sends it.

        Raises:
            IndexError: no such frame.
            DatasetError: as :meth:`read_rgb` and :meth:`read_depth`, or a recorded pose that
                is not a finite rigid transform.
        """
        frame = self.frames[index]
        try:
            camera = Camera(frame.c2w_cv, frame.intrinsics)
        except ValueError as e:
            raise DatasetError(f"dataset {self.path}: frame {index}: {e}") from e
        depth = self.read_depth(index)
        if sky_as_inf:
            depth = np.where(depth > 0, depth, np.float32(np.inf)).astype(np.float32)
        return PosedView(camera, self.read_rgb(index), depth)


def _check_size(path: Path, frame: FrameRecord, shape: tuple[int, ...], file: Path) -> None:
    expected = (frame.intrinsics.height, frame.intrinsics.width)
    if tuple(shape) != expected:
        raise DatasetError(f"dataset {path}: {file.name} of frame {frame.index} is "
                           f"{shape[1]}x{shape[0]}, the intrinsics say {expected[1]}x{expected[0]}")


def _read_transforms(path: Path) -> dict[str, Any] | None:
    file = path / TRANSFORMS_FILE
    if not file.exists():
        return None
    try:
        meta = json.loads(file.read_bytes())
    except (OSError, ValueError) as e:
        raise DatasetError(f"dataset {path}: {TRANSFORMS_FILE} is unreadable: {e}") from e
    if not isinstance(meta, dict) or not isinstance(meta.get("frames"), list):
        raise DatasetError(f"dataset {path}: {TRANSFORMS_FILE} has no \"frames\" list")
    return meta


def load_dataset(path: str | Path, check_files: bool = True) -> Dataset:
    """Load a dataset written by :class:`~worldbridge.recording.DatasetWriter` (or nerfstudio).

    Read-only: a cut-off recording is loaded from its journal without changing any file
    (:func:`repair_dataset` rewrites ``transforms.json``).

    Args:
        path: the dataset directory (or its ``transforms.json``).
        check_files: also check that every listed image and depth file exists.

    Returns:
        The :class:`Dataset`; with the journal as the source, exactly the committed frames.

    Raises:
        DatasetNotFoundError: ``path`` is not a directory holding ``transforms.json`` or
            ``frames.jsonl``.
        DatasetError: a corrupt ``transforms.json`` (and no journal to fall back on), a
            corrupt journal line other than the last, a malformed frame entry, frame indices
            out of order, or (``check_files``) a missing image; the message names the path.
    """
    path = Path(path)
    if path.name == TRANSFORMS_FILE and path.is_file():
        path = path.parent
    path = path.absolute()
    journal_file = path / JOURNAL_FILE
    if not path.is_dir() or not ((path / TRANSFORMS_FILE).is_file() or journal_file.is_file()):
        raise DatasetNotFoundError(f"no dataset at {path}: expected a directory with "
                                   f"{TRANSFORMS_FILE} or {JOURNAL_FILE}")
    try:
        meta = _read_transforms(path)
    except DatasetError:
        if not journal_file.is_file():
            raise
        meta = None  # a damaged transforms.json: the journal still has every frame
    info = dict(meta.get("worldbridge") or {}) if meta else {}
    complete = bool(info.get("complete", meta is not None and not journal_file.is_file()))
    if meta is not None and (complete or not journal_file.is_file()):
        entries, source = meta["frames"], TRANSFORMS_FILE
    else:
        try:
            entries, source = read_journal(journal_file).entries, JOURNAL_FILE
        except OSError as e:
            raise DatasetError(f"dataset {path}: cannot read {JOURNAL_FILE}: {e}") from e
    defaults = {k: meta[k] for k in _INTRINSIC_KEYS if meta and k in meta}
    frames = [parse_frame_entry(e, path, i, defaults) for i, e in enumerate(entries)]
    if info:  # worldbridge datasets: frame i is entry i
        for i, frame in enumerate(frames):
            if frame.index != i:
                raise DatasetError(f"dataset {path}: {source} entry {i} is frame "
                                   f"{frame.index}; frames must be listed in order")
    if check_files:
        for frame in frames:
            for file in (frame.rgb_path, frame.depth_path):
                if file is not None and not file.is_file():
                    raise DatasetError(f"dataset {path}: frame {frame.index} file {file} "
                                       "is missing")
    return Dataset(path=path, frames=frames, info=info, complete=complete and source ==
                   TRANSFORMS_FILE, source=source)


@dataclass
class RepairReport:
    """What :func:`repair_dataset` did.

    Attributes:
        num_frames: frames listed in the rewritten ``transforms.json``.
        torn_line_removed: a torn last journal line was cut off.
        temp_files_removed: leftover ``.*.tmp`` files (writes cut off mid-way) deleted.
        orphan_frames: frames whose image files exist but never reached the journal (cut
            off before their commit); they are left in place and not listed.
    """

    num_frames: int
    torn_line_removed: bool
    temp_files_removed: int
    orphan_frames: int


def repair_dataset(path: str | Path) -> RepairReport:
    """Rebuild ``transforms.json`` of a cut-off recording from its journal.

    Cuts a torn last line off the journal, deletes leftover temporary files and rewrites
    ``transforms.json`` atomically with every journaled frame, marked complete. Do not run
    it on a recording that a writer is still writing.

    Args:
        path: the dataset directory.

    Returns:
        A :class:`RepairReport`.

    Raises:
        DatasetNotFoundError: no ``frames.jsonl`` in ``path`` (nothing to rebuild from).
        DatasetError: the journal is corrupt before its last line, or a listed frame's
            files are missing.
        OSError: a file could not be written.
    """
    path = Path(path).absolute()
    journal_file = path / JOURNAL_FILE
    if not journal_file.is_file():
        raise DatasetNotFoundError(f"no journal {journal_file} to repair the dataset from")
    contents = read_journal(journal_file)
    frames = [parse_frame_entry(e, path, i) for i, e in enumerate(contents.entries)]
    for i, frame in enumerate(frames):
        if frame.index != i:
            raise DatasetError(f"dataset {path}: {JOURNAL_FILE} entry {i} is frame {frame.index}")
        for file in (frame.rgb_path, frame.depth_path):
            if file is not None and not file.is_file():
                raise DatasetError(f"dataset {path}: frame {i} file {file} is missing")
    if contents.torn_tail:
        data = journal_file.read_bytes()[:contents.valid_bytes]
        if data and not data.endswith(b"\n"):
            data += b"\n"
        atomic_write_bytes(journal_file, data, fsync=True)
    removed = 0
    for directory in (path, path / IMAGES_DIR, path / DEPTH_DIR):
        if directory.is_dir():
            for tmp in directory.glob(f".*{TEMP_SUFFIX}"):
                tmp.unlink()
                removed += 1
    listed = {frame.rgb_path.name for frame in frames}
    images = path / IMAGES_DIR
    orphans = sum(1 for f in images.glob("frame_*.png") if f.name not in listed) \
        if images.is_dir() else 0
    try:
        old = _read_transforms(path) or {}
    except DatasetError:
        old = {}
    old_info = old.get("worldbridge") or {}
    section = worldbridge_section(len(frames), True,
                                  old_info.get("created_utc", ""), old_info.get("metadata"))
    section["repaired"] = True
    lines = [json.dumps(e, separators=(",", ":")) for e in contents.entries]
    write_transforms(path, lines, section, fsync=True)
    return RepairReport(num_frames=len(frames), torn_line_removed=contents.torn_tail,
                        temp_files_removed=removed, orphan_frames=orphans)

