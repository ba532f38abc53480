"""Frame-model checkpoints: ``model.safetensors`` + ``config.json`` in one directory, no pickles.

``config.json`` holds the :class:`~worldbridge.models.config.FrameModelConfig` fields plus
metadata keys starting with ``_`` (``_class_name``, ``_format_version`` and ``_extra``, the
caller's JSON dict such as the training step), like a diffusers ``config.json``; so
``FrameModelConfig.from_json(path.read_text())`` reads it directly. Files are written to a
temporary name and renamed, so a crash never leaves a half-written checkpoint behind.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from worldbridge.atomic_io import atomic_path, atomic_write_text
from worldbridge.errors import InvalidInput
from worldbridge.models.config import LEGACY_CONDITIONING, FrameModelConfig
from worldbridge.models.dit import FrameModel

__all__ = [
    "CONFIG_NAME",
    "WEIGHTS_NAME",
    "CheckpointError",
    "check_state_dict",
    "load_checkpoint_extra",
    "load_frame_model",
    "save_checkpoint",
]

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
FORMAT_VERSION = 2
"""Format 2 added the conditioning fields of :class:`FrameModelConfig`; a format-1
``config.json`` is read with :data:`~worldbridge.models.config.LEGACY_CONDITIONING`."""


class CheckpointError(InvalidInput):
    """A checkpoint that is missing, unreadable, corrupt, or does not fit its config."""


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
    """
    from safetensors.torch import save_file

    fm = _unwrap(model)
    if extra is not None and not isinstance(extra, dict):
        raise ValueError(f"extra must be a dict or None, got {type(extra).__name__}")
    config = {"_class_name": "FrameModel", "_format_version": FORMAT_VERSION, **fm.config.to_dict()}
    if extra is not None:
        config["_extra"] = extra
    try:
        config_text = json.dumps(config, indent=2, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as e:
        raise ValueError(f"extra is not JSON-serialisable: {e}") from None
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu").contiguous() for k, v in fm.state_dict().items()}
    with atomic_path(out / WEIGHTS_NAME) as tmp:
        save_file(state, str(tmp), metadata={"format": "pt"})
    atomic_write_text(out / CONFIG_NAME, config_text + "\n")
    return out


def _read_config(directory: Path) -> dict[str, Any]:
    if not directory.exists():
        raise CheckpointError(f"checkpoint directory {str(directory)!r} does not exist")
    if not directory.is_dir():
        raise CheckpointError(f"checkpoint path {str(directory)!r} is not a directory")
    path = directory / CONFIG_NAME
    if not path.is_file():
        raise CheckpointError(f"checkpoint {str(directory)!r} has no {CONFIG_NAME}")
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{str(path)!r} is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{str(path)!r} must hold a JSON object, got {type(data).__name__}")
    return data


def load_checkpoint_extra(directory: str | os.PathLike[str]) -> dict[str, Any]:
    """The ``extra`` dict given to :func:`save_checkpoint` (``{}`` if none).

    Raises:
        CheckpointError: missing directory or ``config.json``, or invalid JSON.
    """
    extra = _read_config(Path(directory)).get("_extra") or {}
    if not isinstance(extra, dict):
        raise CheckpointError(f"_extra in {CONFIG_NAME} must be an object, got {type(extra).__name__}")
    return extra


def check_state_dict(expected: dict[str, torch.Size | tuple[int, ...]],
                     state: dict[str, torch.Tensor], what: str) -> None:
    """Raise unless ``state`` has exactly the ``expected`` keys and shapes.

    Args:
        expected: parameter name -> shape.
        state: tensors to check.
        what: where ``state`` came from, for the message.

    Raises:
        CheckpointError: listing missing, unexpected and shape-mismatched keys.
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
        raise CheckpointError(f"{what} does not match the config: " + "; ".join(parts))


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
    from safetensors.torch import load_file

    directory = Path(directory)
    data = _read_config(directory)
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
    weights = directory / WEIGHTS_NAME
    if not weights.is_file():
        raise CheckpointError(f"checkpoint {str(directory)!r} has no {WEIGHTS_NAME}")
    try:
        state = load_file(str(weights), device="cpu")
    except Exception as e:  # safetensors raises its own error types (and OSError)
        raise CheckpointError(f"{str(weights)!r} is not a readable safetensors file (truncated or "
                              f"corrupt?): {type(e).__name__}: {e}") from None
    with torch.device("meta"):
        model = FrameModel(config)
    check_state_dict({k: v.shape for k, v in model.state_dict().items()}, state, str(weights))
    state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
    model.load_state_dict(state, assign=True)
    model.register_buffer("pos_embed", model.position_embedding(), persistent=False)
    return model.to(device).eval()
