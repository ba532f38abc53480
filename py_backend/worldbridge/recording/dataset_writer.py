"""Record an engine trajectory to disk as a nerfstudio-compatible dataset, crash-safely.

Each frame's RGB and depth PNGs are encoded on background threads, written under temporary
names and renamed into place; only then is the frame's line appended to the journal
``frames.jsonl``, in frame order. ``transforms.json`` is rebuilt from the journal's entries
and replaced atomically every ``transforms_interval_s`` (default 0.5 s, longer when the
file grows large) and on :meth:`DatasetWriter.close`.

What survives a crash:

* The process that owns the writer is killed at any instant (``kill -9``, OOM): every
  *committed* frame (reported through ``on_commit`` and :attr:`DatasetWriter.num_committed`)
  loads, with intact files; frames still queued in memory are lost; no frame is half
  written. :func:`~worldbridge.recording.load_dataset` rebuilds the frame list from the
  journal when ``transforms.json`` lags it.
* The client that streams the frames disconnects or dies: the owner calls :meth:`close`
  (the context manager does), which drains the queue, so every frame :meth:`add_frame`
  returned for is stored.
* Power loss: pass ``fsync=True`` (each file, rename and journal line is flushed to disk;
  slower).
"""

from __future__ import annotations

import atexit
import datetime as _dt
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from worldbridge.atomic_io import atomic_write_bytes, fsync_directory
from worldbridge.geometry import Convention, Intrinsics, PoseError, validate_rigid
from worldbridge.geometry.views import EngineView
from worldbridge.recording.errors import DatasetExistsError, RecordingError
from worldbridge.recording.frame_record import make_frame_entry
from worldbridge.recording.journal import JournalAppender
from worldbridge.recording.layout import (
    DEPTH_DIR,
    IMAGES_DIR,
    JOURNAL_FILE,
    dataset_path,
    depth_relpath,
    rgb_relpath,
)
from worldbridge.recording.ordered_pool import OrderedWritePool
from worldbridge.recording.png_codec import encode_depth_png, encode_rgb_png
from worldbridge.recording.transforms_file import worldbridge_section, write_transforms

__all__ = ["DatasetWriter"]

_LOG = logging.getLogger(__name__)
_OPEN_WRITERS: weakref.WeakSet[DatasetWriter] = weakref.WeakSet()


@atexit.register
def _close_open_writers() -> None:  # a writer left open still stores its queued frames
    for writer in list(_OPEN_WRITERS):
        try:
            writer.close()
        except Exception:  # noqa: BLE001 (nothing to report to at interpreter exit)
            pass


@dataclass
class _FrameJob:
    bgr: np.ndarray
    depth: np.ndarray | None
    entry: dict[str, Any]


class DatasetWriter:
    """Writes one recording: ``<root>/<name>/`` with images, depth, journal, transforms.json.

    Args:
        root: recordings root directory (created if missing).
        name: dataset name: 1-128 characters from ``[A-Za-z0-9._-]``, starting with a
            letter or digit; it must resolve to a direct child of ``root``.
        metadata: JSON-serialisable extras stored under ``worldbridge.metadata`` in
            ``transforms.json`` (session id, level, generator ...).
        num_workers: encoder threads; default ``min(4, os.cpu_count())``.
        max_pending: frames that may wait for the encoders before :meth:`add_frame` blocks
            (bounds memory: about ``max_pending * H * W * 7`` bytes).
        transforms_interval_s: least time between rewrites of ``transforms.json`` while
            recording, seconds; long recordings space them further (20x the last
            rewrite's duration, and 1 s per 1000 frames) so they stay under about 5 % of
            a core and 1 MB/s of disk traffic. The journal is always current.
        fsync: flush every file, rename and journal line to disk (survives power loss).
        on_commit: called with each frame index, in order, once the frame is in the
            journal (stored); runs on a writer thread under the commit lock, so it must be
            quick and must not call back into the writer; its exceptions are logged.

    Raises:
        DatasetNameError: ``name`` is malformed or escapes ``root``.
        DatasetExistsError: ``<root>/<name>`` already exists (nothing is overwritten).
        TypeError: ``metadata`` is not JSON-serialisable.
        ValueError: ``num_workers`` or ``max_pending`` below 1, or a negative interval.
        OSError: the directory cannot be created.
    """

    def __init__(self, root: str | Path, name: str, *, metadata: dict[str, Any] | None = None,
                 num_workers: int | None = None, max_pending: int = 16,
                 transforms_interval_s: float = 0.5, fsync: bool = False,
                 on_commit: Callable[[int], None] | None = None) -> None:
        self._path = dataset_path(root, name)
        self._metadata = json.loads(json.dumps(dict(metadata or {})))  # own + check it
        workers = num_workers if num_workers is not None else min(4, os.cpu_count() or 1)
        if workers < 1 or max_pending < 1:
            raise ValueError(f"num_workers and max_pending must be >= 1, got {workers} and "
                             f"{max_pending}")
        if not transforms_interval_s >= 0:
            raise ValueError(f"transforms_interval_s must be >= 0, got {transforms_interval_s}")
        self._path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.mkdir(self._path)
        except FileExistsError:
            raise DatasetExistsError(f"dataset {self._path} already exists; recorded data is "
                                     "never overwritten, choose another name") from None
        (self._path / IMAGES_DIR).mkdir()
        (self._path / DEPTH_DIR).mkdir()
        self._fsync = fsync
        self._interval = float(transforms_interval_s)
        self._on_commit = on_commit
        self._created = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
        self._frame_json: list[str] = []
        self._journal = JournalAppender(self._path / JOURNAL_FILE, fsync=fsync)
        self._transforms_lock = threading.Lock()
        self._next_transforms = 0.0
        self._write_transforms(complete=False)
        if fsync:
            fsync_directory(self._path.parent)
        self._closed = False
        self._pool = OrderedWritePool(self._write_files, self._commit, workers, max_pending)
        _OPEN_WRITERS.add(self)

    # -- properties ---------------------------------------------------------------------
    @property
    def path(self) -> Path:
        """The dataset directory (absolute)."""
        return self._path

    @property
    def num_submitted(self) -> int:
        """Frames accepted by :meth:`add_frame` so far."""
        return self._pool.submitted

    @property
    def num_committed(self) -> int:
        """Frames whose files and journal line are on disk (frames ``0 .. n-1``)."""
        return self._pool.committed

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has run."""
        return self._closed

    # -- recording ----------------------------------------------------------------------
    def add_frame(self, rgb: np.ndarray, depth: np.ndarray | None, intrinsics: Intrinsics,
                  c2w_cv: np.ndarray, engine_c2w: np.ndarray, convention: Convention | int,
                  timestamp_us: int, sequence: int) -> int:
        """Queue one frame for writing; blocks only while ``max_pending`` frames wait.

        The arrays are copied before this returns; the caller may reuse them at once.

        Args:
            rgb: ``[H, W, 3]`` uint8 RGB, top row first; ``H, W`` equal the intrinsics'
                height and width.
            depth: ``[H, W]`` float planar z (OpenCV +Z), metres; 0, +inf, NaN and negative
                values are invalid; stored as uint16 millimetres (0 beyond 65.535 m). None
                when the engine sent no depth (an all-invalid depth PNG is written so every
                frame has one, as nerfstudio requires).
            intrinsics: pinhole intrinsics of the image, pixels.
            c2w_cv: ``[4, 4]`` OpenCV camera-to-world, metres (the backend's pose).
            engine_c2w: ``[4, 4]`` camera-to-world as the engine sent it (its units).
            convention: the convention of ``engine_c2w`` (not UNSPECIFIED).
            timestamp_us: client timestamp, microseconds.
            sequence: client sequence number.

        Returns:
            The frame's index (0, 1, 2 ... in call order). It is on disk once
            :attr:`num_committed` exceeds it (or ``on_commit`` reported it).

        Raises:
            ValueError: wrong shape or dtype, size not matching the intrinsics, an unknown
                or UNSPECIFIED convention, non-integer timestamp or sequence.
            PoseError: (a ValueError) a pose that is not a finite rigid 4x4 transform.
            RecordingError: the writer is closed, or an earlier background write failed.
        """
        if self._closed:
            raise RecordingError(f"the writer for {self._path} is closed")
        if not isinstance(intrinsics, Intrinsics):
            raise ValueError(f"intrinsics must be an Intrinsics, got {type(intrinsics).__name__}")
        h, w = intrinsics.height, intrinsics.width
        rgb = np.asarray(rgb)
        if rgb.dtype != np.uint8 or rgb.shape != (h, w, 3):
            raise ValueError(f"rgb must be uint8 [H, W, 3] = [{h}, {w}, 3] (from the "
                             f"intrinsics), got {rgb.dtype} {list(rgb.shape)}")
        if depth is not None:
            depth = np.asarray(depth)
            if depth.shape != (h, w) or depth.dtype.kind != "f":
                raise ValueError(f"depth must be float [H, W] = [{h}, {w}] metres, got "
                                 f"{depth.dtype} {list(depth.shape)}")
        c2w = validate_rigid(c2w_cv, "c2w_cv")
        engine = validate_rigid(engine_c2w, "engine_c2w")
        try:
            conv = Convention(int(convention))
        except (ValueError, TypeError):
            raise PoseError(f"unknown pose convention {convention!r}") from None
        if conv is Convention.UNSPECIFIED:
            raise PoseError("engine pose convention is UNSPECIFIED")
        return self._submit(rgb, depth, intrinsics, c2w, engine, conv, timestamp_us, sequence)

    def add_view(self, frame: EngineView, timestamp_us: int, sequence: int) -> int:
        """:meth:`add_frame` for a view whose camera and engine pose were checked when it was
        made (:meth:`EngineView.from_engine`; no rigidity check here).

        Args:
            frame: the view (``rgb`` required) with the engine's pose and convention.
            timestamp_us, sequence: as :meth:`add_frame`.

        Returns:
            The frame's index.

        Raises:
            ValueError: a view without rgb, non-integer timestamp or sequence.
            RecordingError: as :meth:`add_frame`.
        """
        if self._closed:
            raise RecordingError(f"the writer for {self._path} is closed")
        view = frame.view
        if view.rgb is None:
            raise ValueError("a recorded frame needs rgb")
        return self._submit(view.rgb, view.depth, view.intrinsics, view.camera.c2w, frame.engine_c2w,
                            frame.convention, timestamp_us, sequence)

    def _submit(self, rgb: np.ndarray, depth: np.ndarray | None, intrinsics: Intrinsics, c2w: np.ndarray,
                engine: np.ndarray, conv: Convention, timestamp_us: int, sequence: int) -> int:
        """Queue checked arrays and poses; checks the timestamp and sequence."""
        for label, value in (("timestamp_us", timestamp_us), ("sequence", sequence)):
            if not isinstance(value, Integral) or isinstance(value, bool):
                raise ValueError(f"{label} must be an integer, got {value!r}")

        def make_job(index: int) -> _FrameJob:
            return _FrameJob(
                bgr=cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR),  # a new array: the caller's is free
                depth=None if depth is None else np.array(depth, dtype=np.float32, copy=True),
                entry=make_frame_entry(index, intrinsics, c2w, engine, conv, int(timestamp_us),
                                       int(sequence), has_depth=depth is not None))

        return self._pool.submit(make_job)

    def flush(self) -> None:
        """Block until every frame added so far is on disk, then rewrite ``transforms.json``.

        Raises:
            RecordingError: a background write failed.
            OSError: ``transforms.json`` could not be written.
        """
        self._pool.wait()
        self._write_transforms(complete=False)

    def close(self) -> None:
        """Store every queued frame, write the final ``transforms.json`` and stop (idempotent).

        Raises:
            RecordingError: a background write failed; frames before it are stored and
                listed in ``transforms.json``.
            OSError: the final ``transforms.json`` could not be written (the journal is
                complete; :func:`~worldbridge.recording.repair_dataset` rebuilds it).
        """
        if self._closed:
            return
        self._closed = True
        _OPEN_WRITERS.discard(self)
        try:
            self._pool.close()
        finally:
            self._journal.close()
            self._write_transforms(complete=self._pool.error is None)

    def __enter__(self) -> DatasetWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            self.close()
        except RecordingError:
            if exc_type is None:
                raise  # otherwise the original exception is the one to see

    # -- background side ----------------------------------------------------------------
    def _write_files(self, job: _FrameJob) -> dict[str, Any]:
        index = job.entry["frame_index"]
        atomic_write_bytes(self._path / rgb_relpath(index), encode_rgb_png(job.bgr), self._fsync)
        depth = job.depth if job.depth is not None else np.zeros(job.bgr.shape[:2], np.float32)
        png, clipped = encode_depth_png(depth)
        atomic_write_bytes(self._path / depth_relpath(index), png, self._fsync)
        job.entry["depth_clipped_px"] = clipped
        return job.entry

    def _commit(self, index: int, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, separators=(",", ":"))
        self._journal.append(line)
        self._frame_json.append(line)
        # The frame is stored now: a failing callback or transforms.json rewrite must not
        # mark it failed (the journal, not transforms.json, is the truth while recording).
        if self._on_commit is not None:
            try:
                self._on_commit(index)
            except Exception:  # noqa: BLE001
                _LOG.exception("on_commit callback failed for frame %d of %s", index, self._path)
        if time.monotonic() >= self._next_transforms:
            # Under the commit lock: encoders keep running; only committing waits (~1 ms
            # per 1000 frames, spaced by the adaptive interval).
            try:
                self._write_transforms(complete=False)
            except OSError:
                _LOG.exception("rewriting %s/transforms.json failed; retrying later", self._path)

    def _write_transforms(self, complete: bool) -> None:
        with self._transforms_lock:
            frames = self._frame_json[:]  # append-only list: a consistent prefix
            section = worldbridge_section(len(frames), complete, self._created, self._metadata)
            took = write_transforms(self._path, frames, section, fsync=self._fsync)
            # Long recordings: the file grows ~0.7 KB per frame; spacing rewrites by 20x their
            # duration and 1 s per 1000 frames keeps them under ~5 % of a core and ~1 MB/s.
            self._next_transforms = time.monotonic() + max(self._interval, 20.0 * took,
                                                           len(frames) / 1000.0)

    def __repr__(self) -> str:
        return (f"DatasetWriter({str(self._path)!r}, submitted={self.num_submitted}, "
                f"committed={self.num_committed}, closed={self._closed})")
