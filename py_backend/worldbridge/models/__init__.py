"""Frame model (DiT + PRoPE), autoencoders, noise schedules, samplers, checkpoints."""

from worldbridge.models.checkpoint import (
    CheckpointError,
    load_checkpoint_extra,
    load_frame_model,
    save_checkpoint,
)
from worldbridge.models.config import FrameModelConfig
from worldbridge.models.dit import FrameModel, ReferenceCache
from worldbridge.models.pixart import PixArtLoadReport, load_pixart_sigma_weights
from worldbridge.models.prope import PRoPE, projection_matrices, prope_attention

__all__ = [
    "CheckpointError",
    "FrameModel",
    "FrameModelConfig",
    "PRoPE",
    "PixArtLoadReport",
    "ReferenceCache",
    "load_checkpoint_extra",
    "load_frame_model",
    "load_pixart_sigma_weights",
    "projection_matrices",
    "prope_attention",
    "save_checkpoint",
]
