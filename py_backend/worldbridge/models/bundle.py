"""A servable frame model: distilled generator + autoencoder + schedule + sampler timesteps.

Layout of a bundle directory::

    bundle.json                 format, schedule, sampler timesteps, image size, provenance;
                                ``"teacher": {"path": "teacher", ...}`` when a teacher ships
    model.safetensors           the (distilled) FrameModel weights
    config.json                 its FrameModelConfig
    autoencoder/                the autoencoder checkpoint (compact or diffusers AutoencoderKL)
    teacher/                    optional: the Stage II checkpoint the student was distilled from
                                (model.safetensors, config.json) and its training configuration
                                (stage2.json), where fine-tuning on a studio's level starts

``worldbridge export-bundle`` (:func:`save_bundle`) assembles one from a Stage III output and
an autoencoder; the starter model shipped in the package is one.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from worldbridge.atomic_io import atomic_write_text
from worldbridge.models.autoencoder import Autoencoder
from worldbridge.models.autoencoder_io import load_autoencoder
from worldbridge.models.checkpoint import (
    CONFIG_NAME,
    WEIGHTS_NAME,
    CheckpointError,
    load_checkpoint_extra,
    load_frame_model,
    read_config,
)
from worldbridge.models.dit import FrameModel
from worldbridge.models.schedule import NoiseSchedule, ScheduleConfig

__all__ = ["FrameModelBundle", "save_bundle", "teacher_of", "BUNDLE_FILE", "BUNDLE_FORMAT", "TEACHER_DIR"]

BUNDLE_FILE = "bundle.json"
BUNDLE_FORMAT = "worldbridge-frame-model-bundle"


@dataclass
class FrameModelBundle:
    """A loaded bundle, ready to sample.

    Attributes:
        model: the generator (eval mode, requires_grad off).
        autoencoder: its latent space.
        schedule: the noise schedule it was trained with.
        timesteps: distilled sampler timesteps, e.g. ``[999, 200]``.
        info: the rest of ``bundle.json`` (provenance, metrics).
    """

    model: FrameModel
    autoencoder: Autoencoder
    schedule: NoiseSchedule
    timesteps: list[int]
    path: Path
    info: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | os.PathLike, device: Any = "cpu",
             dtype: torch.dtype = torch.float32) -> FrameModelBundle:
        """Load a bundle directory.

        Raises:
            CheckpointError: missing/damaged ``bundle.json``, model or autoencoder files.
        """
        p = Path(path)
        meta_path = p / BUNDLE_FILE
        if not meta_path.is_file():
            raise CheckpointError(f"{str(p)!r} is not a frame-model bundle: no {BUNDLE_FILE}")
        meta = read_config(p, BUNDLE_FILE)
        try:
            if meta.get("format") != BUNDLE_FORMAT:
                raise ValueError(f"format is {meta.get('format')!r}, expected {BUNDLE_FORMAT!r}")
            schedule = NoiseSchedule(ScheduleConfig(**meta["schedule"]))
            timesteps = [int(t) for t in meta["sampler_timesteps"]]
        except (ValueError, KeyError, TypeError) as e:
            raise CheckpointError(f"bad {meta_path}: {e}") from None
        model = load_frame_model(p, device=device, dtype=dtype).eval().requires_grad_(False)
        autoencoder = load_autoencoder(p / "autoencoder", device=device, dtype=dtype)
        if autoencoder.latent_channels != model.config.latent_channels:
            raise CheckpointError(f"bundle {str(p)!r}: autoencoder has {autoencoder.latent_channels} "
                                  f"latent channels, the model {model.config.latent_channels}")
        info = {k: v for k, v in meta.items() if k not in ("schedule", "sampler_timesteps")}
        return cls(model, autoencoder, schedule, timesteps, p, info)

    @property
    def teacher_path(self) -> Path | None:
        """The shipped Stage II teacher's checkpoint folder, or None (see :func:`teacher_of`)."""
        return teacher_of(self.path)


def teacher_of(bundle_dir: str | os.PathLike) -> Path | None:
    """The Stage II teacher checkpoint a bundle ships (``bundle.json`` ``teacher.path``), or None.

    Raises:
        CheckpointError: not a bundle, a teacher entry that is not an object with a relative
            ``path`` inside the bundle, or a teacher folder without a frame-model checkpoint.
    """
    p = Path(bundle_dir)
    if not (p / BUNDLE_FILE).is_file():
        raise CheckpointError(f"{str(p)!r} is not a frame-model bundle: no {BUNDLE_FILE}")
    entry = read_config(p, BUNDLE_FILE).get("teacher")
    if entry is None:
        return None
    rel = entry.get("path") if isinstance(entry, dict) else None
    if not isinstance(rel, str) or not rel or Path(rel).is_absolute():
        raise CheckpointError(f"bad {p / BUNDLE_FILE}: teacher must be an object with a relative path, got {entry!r}")
    root = p.resolve()
    teacher = (root / rel).resolve()
    if root not in teacher.parents:
        raise CheckpointError(f"bad {p / BUNDLE_FILE}: teacher path {rel!r} leaves the bundle")
    if not (teacher / CONFIG_NAME).is_file() or not (teacher / WEIGHTS_NAME).is_file():
        raise CheckpointError(f"bundle {str(p)!r}: teacher folder {str(teacher)!r} has no {WEIGHTS_NAME} and "
                              f"{CONFIG_NAME}")
    return teacher


def save_bundle(out_dir: str | os.PathLike, model_dir: str | os.PathLike,
                autoencoder_dir: str | os.PathLike, timesteps: list[int] | None = None,
                info: dict[str, Any] | None = None, teacher_dir: str | os.PathLike | None = None,
                teacher_config: str | os.PathLike | None = None) -> Path:
    """Assemble a bundle from a frame-model checkpoint and an autoencoder checkpoint.

    Args:
        model_dir: checkpoint folder (``model.safetensors`` + ``config.json``), e.g. a
            Stage III ``final/``; its saved schedule and sampler timesteps are used.
        autoencoder_dir: autoencoder checkpoint folder.
        timesteps: override the sampler timesteps (default: the checkpoint's, else [999, 200]).
        info: provenance to store (commands, metrics).
        teacher_dir: the Stage II checkpoint the model was distilled from, shipped as
            ``teacher/`` (weights and config only).
        teacher_config: its training configuration (a ``stage2.json``), shipped beside it.

    Raises:
        CheckpointError: ``model_dir`` (or ``teacher_dir``) is not a frame-model checkpoint.
    """
    src, out = Path(model_dir), Path(out_dir)
    extra = load_checkpoint_extra(src)
    load_frame_model(src)  # validates weights against config before anything is copied
    out.mkdir(parents=True, exist_ok=True)
    for name in (WEIGHTS_NAME, CONFIG_NAME):
        shutil.copy2(src / name, out / name)
    _copy_autoencoder(Path(autoencoder_dir), out / "autoencoder")
    meta = {"format": BUNDLE_FORMAT, "schedule": extra.get("schedule", ScheduleConfig().to_dict()),
            "sampler_timesteps": timesteps or extra.get("sampler_timesteps", [999, 200]),
            **(info or {})}
    if teacher_dir is not None:
        meta["teacher"] = _copy_teacher(Path(teacher_dir), None if teacher_config is None else Path(teacher_config),
                                        out / TEACHER_DIR)
    atomic_write_text(out / BUNDLE_FILE, json.dumps(meta, indent=2) + "\n")
    return out


TEACHER_DIR = "teacher"
"""Folder of a bundle's shipped Stage II teacher."""


def _copy_teacher(src: Path, config: Path | None, dst: Path) -> dict[str, Any]:
    """Copy a Stage II checkpoint's weights and config (and its training config) into a bundle;
    returns the ``bundle.json`` entry."""
    load_frame_model(src)  # validates weights against config before anything is copied
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for name in (WEIGHTS_NAME, CONFIG_NAME):
        shutil.copy2(src / name, dst / name)
    entry: dict[str, Any] = {"path": TEACHER_DIR, "step": load_checkpoint_extra(src).get("step")}
    if config is not None:
        shutil.copy2(config, dst / "stage2.json")
        entry["training_config"] = f"{TEACHER_DIR}/stage2.json"
    return entry


AUTOENCODER_PROVENANCE = ("eval.json", "autoencoder_train.json")
"""Small files of a ``train-autoencoder`` run copied into a bundle beside the weights."""


def _copy_autoencoder(src: Path, dst: Path) -> None:
    """Copy an autoencoder checkpoint into a bundle: a compact autoencoder's config, weights
    and run summary only (not a training run's ``checkpoints/``, logs or plots); a diffusers
    folder whole, without hidden and temporary files."""
    from worldbridge.models.compact_autoencoder import CONFIG_NAME as AE_CONFIG
    from worldbridge.models.compact_autoencoder import WEIGHTS_NAME as AE_WEIGHTS

    if dst.exists():
        shutil.rmtree(dst)
    if (src / AE_CONFIG).is_file():
        dst.mkdir(parents=True)
        for name in (AE_CONFIG, AE_WEIGHTS, *AUTOENCODER_PROVENANCE):
            if (src / name).is_file():
                shutil.copy2(src / name, dst / name)
        return
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.tmp", ".*", "checkpoints"))
