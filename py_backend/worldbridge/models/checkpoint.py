"""Checkpoints of our models: safetensors weights + a JSON config in one directory, no pickles.

This module is the one reader and writer of them. The generic primitives
(:func:`save_weights_and_config`, :func:`read_config`, :func:`load_weights`,
:func:`check_state_dict`) write both files atomically and validate what they read, raising
:class:`CheckpointError` that names the file and the bad key or value; each model chooses
its file names and the layout of its JSON:

* the frame model (:func:`save_checkpoint`, :func:`load_frame_model`):
  ``model.safetensors`` + ``config.json``. ``config.json`` holds the
  :class:`~worldbridge.models.config.FrameModelConfig` fields plus metadata keys starting
  with ``_`` (``_class_name``, ``_format_version`` and ``_extra``, the caller's JSON dict
  such as the training step), like a diffusers ``config.json``; so
  ``FrameModelConfig.from_json(path.read_text())`` reads it directly.
* the compact autoencoder (:meth:`~worldbridge.models.compact_autoencoder.CompactAutoencoder.save`
  / ``.load``): ``autoencoder.safetensors`` + ``autoencoder.json``.

Files are written to a temporary name and renamed (:mod:`worldbridge.atomic_io`), so a
crash never leaves a half-written file behind.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from worldbridge.atomic_io import atomic_path, atomic_write_text
from worldbridge.errors import InvalidInput
from worldbridge.models.config import LEGACY_CONDITIONING, FrameModelConfig
from worldbridge.models.dit import FrameModel

__all__ = [
    "checkpoint_dir",
    "CONFIG_NAME",
    "EXTRA_KEY",
    "WEIGHTS_NAME",
    "CheckpointError",
    "check_state_dict",
    "load_checkpoint_extra",
    "load_frame_model",
    "load_weights",
    "read_config",
    "save_checkpoint",
    "save_weights_and_config",
]

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
EXTRA_KEY = "_extra"
"""The key of the JSON config under which :func:`save_weights_and_config` stores ``extra``."""
FORMAT_VERSION = 2
"""Format 2 added the conditioning fields of :class:`FrameModelConfig`; a format-1
``config.json`` is read with :data:`~worldbridge.models.config.LEGACY_CONDITIONING`."""


class CheckpointError(InvalidInput):
    """A checkpoint that is missing, unreadable, corrupt, or does not fit its config."""


# ----------------------------------------------------------------------------- primitives
def _checkpoint_dir(directory: Path) -> Path:
    """``directory``, or :class:`CheckpointError` if it is missing or not a directory."""
    if not directory.exists():
        raise CheckpointError(f"checkpoint directory {str(directory)!r} does not exist")
    if not directory.is_dir():
        raise CheckpointError(f"checkpoint path {str(directory)!r} is not a directory")
    return directory


def save_weights_and_config(directory: str | os.PathLike[str], state_dict: Mapping[str, torch.Tensor],
                            config: dict[str, Any], *, weights_name: str, config_name: str,
                            extra: dict[str, Any] | None = None,
                            weights_metadata: dict[str, str] | None = None) -> Path:
    """Write ``state_dict`` to ``directory/weights_name`` and ``config`` to ``directory/config_name``.

    The directory is created if needed; other files in it are left alone. Each file is
    written to a temporary name and renamed into place, the weights first.

    Args:
        directory: the checkpoint directory.
        state_dict: parameter name -> tensor; saved detached, on the CPU, contiguous, in the
            tensors' own dtypes, as safetensors (no pickles).
        config: the JSON object to write (pretty-printed, sorted keys; NaN and infinities
            are refused).
        weights_name: file name of the weights, e.g. ``model.safetensors``.
        config_name: file name of the config, e.g. ``config.json``.
        extra: optional JSON-serialisable caller metadata (a training step, a schedule),
            stored under :data:`EXTRA_KEY` in the config; read it back with
            :func:`load_checkpoint_extra`.
        weights_metadata: the safetensors header's string metadata (default
            ``{"format": "pt"}``).

    Returns:
        The directory as a :class:`~pathlib.Path`.

    Raises:
        ValueError: ``extra`` is not a dict, or ``config`` / ``extra`` is not JSON-serialisable
            (nothing is written then).
        CheckpointError: ``directory`` exists and is not a directory.
        OSError: the files cannot be written (the previous files are kept).
    """
    from safetensors.torch import save_file

    if extra is not None and not isinstance(extra, dict):
        raise ValueError(f"extra must be a dict or None, got {type(extra).__name__}")
    for what, value in (("config", config), ("extra", extra)):
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise ValueError(f"{what} for {config_name} is not JSON-serialisable: {e}") from None
    document = config if extra is None else {**config, EXTRA_KEY: extra}
    out = Path(directory)
    if out.exists() and not out.is_dir():
        raise CheckpointError(f"checkpoint path {str(out)!r} is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in state_dict.items()}
    with atomic_path(out / weights_name) as tmp:
        save_file(state, str(tmp), metadata=weights_metadata or {"format": "pt"})
    atomic_write_text(out / config_name, json.dumps(document, indent=2, sort_keys=True) + "\n")
    return out


def read_config(directory: str | os.PathLike[str], config_name: str) -> dict[str, Any]:
    """The JSON object in ``directory/config_name``.

    Raises:
        CheckpointError: the directory does not exist or is not a directory (``... does
            not exist`` / ``... is not a directory``), it has no ``config_name`` (``checkpoint
            ... has no <config_name>``), the file cannot be read or is not valid JSON
            (``cannot read <file>: not valid JSON ...``), or holds something other than an
            object.
    """
    d = _checkpoint_dir(Path(directory))
    path = d / config_name
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(d)!r} has no {config_name}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as e:
        raise CheckpointError(f"cannot read {str(path)!r}: {e}") from None
    except json.JSONDecodeError as e:
        raise CheckpointError(f"cannot read {str(path)!r}: not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{str(path)!r} must hold a JSON object, got {type(data).__name__}")
    return data


def check_state_dict(expected: dict[str, torch.Size | tuple[int, ...]],
                     state: dict[str, torch.Tensor], what: str) -> None:
    """Raise unless ``state`` has exactly the ``expected`` keys and shapes.

    Args:
        expected: parameter name -> shape.
        state: tensors to check.
        what: where ``state`` came from, for the message.

    Raises:
        CheckpointError: ``<what> does not match what the config needs: missing keys: ...;
            unexpected keys: ...; shape mismatches: <key>: file (..) vs model (..)`` (the
            parts that apply, 20 keys each at most).
    """
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    mismatched = sorted(
        f"{k}: file {tuple(state[k].shape)} vs model {tuple(expected[k])}"
        for k in set(expected) & set(state) if tuple(state[k].shape) != tuple(expected[k]))
    if missing or unexpected or mismatched:
        parts = []
        for label, items in (("missing keys", missing), ("unexpected keys", unexpected),
                             ("shape mismatches", mismatched)):
            if items:
                shown = ", ".join(items[:20]) + (f", ... ({len(items)} in all)" if len(items) > 20 else "")
                parts.append(f"{label}: {shown}")
        raise CheckpointError(f"{what} does not match what the config needs: " + "; ".join(parts))


def load_weights(directory: str | os.PathLike[str], expected: Mapping[str, torch.Tensor], *,
                 weights_name: str, check_finite: bool = False) -> dict[str, torch.Tensor]:
    """Read and validate the safetensors file ``directory/weights_name``.

    Args:
        directory: the checkpoint directory.
        expected: the state dict the weights must fit, e.g. ``model.state_dict()`` of a
            model built from the checkpoint's config (meta-device tensors will do): the same
            keys, the same shapes, and a floating-point tensor wherever it has one.
        weights_name: file name of the weights.
        check_finite: also refuse NaN and infinite values (reads every tensor once).

    Returns:
        Parameter name -> tensor, on the CPU, in the dtypes of the file.

    Raises:
        CheckpointError: the directory is missing or not a directory; the file is missing
            (``checkpoint ... has no <weights_name>``), truncated or corrupt (``... is not a
            readable safetensors file (truncated or corrupt?)``); keys or shapes do not fit
            (:func:`check_state_dict`'s message); a tensor is not floating-point where
            ``expected``'s is, or (``check_finite``) has non-finite values. Each message
            names the file, and the key where one is at fault.
    """
    from safetensors.torch import load_file

    d = _checkpoint_dir(Path(directory))
    path = d / weights_name
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(d)!r} has no {weights_name}")
    try:
        state = load_file(str(path), device="cpu")
    except Exception as e:  # safetensors raises its own error types (and OSError)
        raise CheckpointError(f"{str(path)!r} is not a readable safetensors file (truncated or "
                              f"corrupt?): {type(e).__name__}: {e}") from None
    check_state_dict({k: v.shape for k, v in expected.items()}, state, repr(str(path)))
    for k, ref in expected.items():
        t = state[k]
        if ref.is_floating_point() and not t.is_floating_point():
            raise CheckpointError(f"{str(path)!r}: weight {k!r} is {t.dtype}, the config needs a "
                                  "floating-point tensor")
        if check_finite and t.is_floating_point() and not torch.isfinite(t).all():
            raise CheckpointError(f"{str(path)!r}: weight {k!r} has non-finite values")
    return state


def checkpoint_dir(path: str | os.PathLike[str]) -> Path:
    """A frame-model checkpoint folder: ``path`` itself, or the ``final/`` of a training run's
    output folder when ``path`` holds no ``config.json`` but ``final/`` does. Nothing is read."""
    p = Path(path)
    if not (p / CONFIG_NAME).is_file() and (p / "final" / CONFIG_NAME).is_file():
        return p / "final"
    return p


def load_checkpoint_extra(directory: str | os.PathLike[str], *, config_name: str = CONFIG_NAME) -> dict[str, Any]:
    """The ``extra`` dict given to :func:`save_checkpoint` / :func:`save_weights_and_config`
    (``{}`` if none).

    Raises:
        CheckpointError: any error of :func:`read_config`, or an ``_extra`` that is not an object.
    """
    extra = read_config(directory, config_name).get(EXTRA_KEY) or {}
    if not isinstance(extra, dict):
        raise CheckpointError(f"{EXTRA_KEY} in {str(Path(directory) / config_name)!r} must be an "
                              f"object, got {type(extra).__name__}")
    return extra


# ----------------------------------------------------------------------------- frame model
def _unwrap(model: nn.Module) -> FrameModel:
    """The FrameModel inside DDP (``.module``) or ``torch.compile`` (``._orig_mod``) wrappers."""
    for attr in ("module", "_orig_mod"):
        while not isinstance(model, FrameModel) and hasattr(model, attr):
            model = getattr(model, attr)
    if not isinstance(model, FrameModel):
        raise ValueError(f"save_checkpoint needs a FrameModel, got {type(model).__name__}")
    return model


def save_checkpoint(model: nn.Module, directory: str | os.PathLike[str],
                    extra: dict[str, Any] | None = None) -> Path:
    """Write ``model.safetensors`` and ``config.json`` into ``directory`` (created if needed).

    Other files in the directory are left alone; the two files are replaced atomically.

    Args:
        model: a :class:`~worldbridge.models.dit.FrameModel` (DDP / ``torch.compile``
            wrappers are unwrapped). Weights are saved in their current dtype.
        directory: target directory.
        extra: JSON-serialisable metadata stored as ``_extra`` in ``config.json`` (read it
            back with :func:`load_checkpoint_extra`).

    Returns:
        The directory path.

    Raises:
        ValueError: ``model`` is not a FrameModel, or ``extra`` is not a JSON-serialisable dict.
        CheckpointError: ``directory`` is a file.
    """
    fm = _unwrap(model)
    config = {"_class_name": "FrameModel", "_format_version": FORMAT_VERSION, **fm.config.to_dict()}
    return save_weights_and_config(directory, fm.state_dict(), config, weights_name=WEIGHTS_NAME,
                                   config_name=CONFIG_NAME, extra=extra)


def load_frame_model(directory: str | os.PathLike[str], device: str | torch.device = "cpu",
                     dtype: torch.dtype = torch.float32) -> FrameModel:
    """Load a checkpoint written by :func:`save_checkpoint`.

    The model is built without initialising its weights (on the meta device) and the file's
    tensors are assigned to it, so large models load quickly. It is returned in eval mode.

    Args:
        directory: checkpoint directory.
        device: where the model goes.
        dtype: floating-point dtype of the parameters.

    Returns:
        The :class:`~worldbridge.models.dit.FrameModel`.

    Raises:
        CheckpointError: missing directory or file; ``config.json`` not JSON or failing
            :class:`FrameModelConfig` validation; ``model.safetensors`` truncated or
            corrupt; its keys or shapes not matching the config (missing, unexpected and
            mismatched keys are listed).
    """
    directory = Path(directory)
    data = read_config(directory, CONFIG_NAME)
    version = data.get("_format_version", 1)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise CheckpointError(f"{str(directory / CONFIG_NAME)!r}: _format_version must be an "
                              f"integer >= 1, got {version!r}")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{str(directory / CONFIG_NAME)!r} has format {version}, newer "
                              f"than this worldbridge reads ({FORMAT_VERSION})")
    if version < 2:
        data = {**LEGACY_CONDITIONING, **data}
    try:
        config = FrameModelConfig.from_dict(data)
    except (TypeError, ValueError) as e:
        raise CheckpointError(f"{str(directory / CONFIG_NAME)!r} is not a valid frame-model "
                              f"config: {e}") from None
    with torch.device("meta"):
        model = FrameModel(config)
    state = load_weights(directory, model.state_dict(), weights_name=WEIGHTS_NAME)
    state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
    model.load_state_dict(state, assign=True)
    model.register_buffer("pos_embed", model.position_embedding(), persistent=False)
    return model.to(device).eval()
