"""Load whichever autoencoder a directory holds: the compact one or a diffusers AutoencoderKL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from worldbridge.models.autoencoder import Autoencoder
from worldbridge.models.checkpoint import CheckpointError
from worldbridge.models.compact_autoencoder import CONFIG_NAME as COMPACT_CONFIG
from worldbridge.models.compact_autoencoder import CompactAutoencoder

__all__ = ["load_autoencoder"]


def load_autoencoder(path: str | os.PathLike, device: Any = None,
                     dtype: torch.dtype = torch.float32) -> Autoencoder:
    """Load an autoencoder checkpoint directory.

    ``autoencoder.json`` -> :class:`CompactAutoencoder`; a diffusers ``config.json`` (or a
    pipeline's ``vae/``) -> SD/SDXL ``AutoencoderKL`` through diffusers.

    Raises:
        CheckpointError: no recognisable checkpoint at ``path`` (or damaged files).
    """
    p = Path(path)
    if (p / COMPACT_CONFIG).is_file():
        return CompactAutoencoder.load(p, device=device, dtype=dtype)
    if (p / "config.json").is_file() or (p / "vae" / "config.json").is_file():
        from worldbridge.models.autoencoder_kl import load_autoencoder_kl

        return load_autoencoder_kl(p, device=device, dtype=dtype)
    raise CheckpointError(
        f"{str(p)!r} holds no autoencoder: expected {COMPACT_CONFIG} (compact autoencoder) or a "
        "diffusers AutoencoderKL config.json")
