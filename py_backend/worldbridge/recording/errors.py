"""Exceptions of the recording package (dataset writer and reader)."""

from __future__ import annotations

from worldbridge.errors import AlreadyExists, InvalidInput, NotFound, WorldBridgeError

__all__ = ["DatasetError", "DatasetNotFoundError", "DatasetNameError", "DatasetExistsError",
           "RecordingError"]


class DatasetError(WorldBridgeError):
    """A dataset on disk that is missing, unreadable or inconsistent; the message names the path."""


class DatasetNotFoundError(DatasetError, NotFound, FileNotFoundError):
    """No dataset (neither ``transforms.json`` nor ``frames.jsonl``) at the given path."""


class DatasetNameError(DatasetError, InvalidInput):
    """A dataset name that is malformed or would resolve outside the recordings root."""


class DatasetExistsError(DatasetError, AlreadyExists, FileExistsError):
    """A dataset of that name already exists; recorded data is never overwritten."""


class RecordingError(DatasetError, RuntimeError):
    """The writer cannot accept or store frames: it is closed, or a background write failed.

    When a background write failed, ``__cause__`` is the original exception (often an
    ``OSError`` such as a full disk); every frame before the failed one is on disk.
    """
