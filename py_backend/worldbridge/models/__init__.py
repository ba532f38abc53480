"""Frame model (DiT + PRoPE), autoencoders, noise schedules, samplers, checkpoints."""

from worldbridge.models.autoencoder import Autoencoder, rgb_to_tensor, tensor_to_rgb
from worldbridge.models.autoencoder_io import load_autoencoder
from worldbridge.models.autoencoder_kl import DiffusersAutoencoderKL, load_autoencoder_kl
from worldbridge.models.bundle import FrameModelBundle, save_bundle
from worldbridge.models.checkpoint import (
    CheckpointError,
    load_checkpoint_extra,
    load_frame_model,
    save_checkpoint,
)
from worldbridge.models.compact_autoencoder import (
    AutoencoderLossConfig,
    CompactAutoencoder,
    CompactAutoencoderConfig,
    autoencoder_loss,
    fit_scaling_factor,
    learning_rate_at,
    ssim_index,
    train_autoencoder,
)
from worldbridge.models.config import FrameModelConfig
from worldbridge.models.dit import FrameModel, ReferenceCache
from worldbridge.models.pixart import (
    PixArtLoadReport,
    check_pixart_setup,
    load_pixart_sigma_weights,
)
from worldbridge.models.prope import PRoPE, projection_matrices, prope_attention
from worldbridge.models.samplers import DDIMSampler, DistilledSampler, seeded_noise
from worldbridge.models.schedule import NoiseSchedule, ScheduleConfig

__all__ = [
    "Autoencoder",
    "AutoencoderLossConfig",
    "CompactAutoencoder",
    "CompactAutoencoderConfig",
    "DDIMSampler",
    "DiffusersAutoencoderKL",
    "DistilledSampler",
    "FrameModelBundle",
    "NoiseSchedule",
    "ScheduleConfig",
    "autoencoder_loss",
    "fit_scaling_factor",
    "learning_rate_at",
    "load_autoencoder",
    "load_autoencoder_kl",
    "rgb_to_tensor",
    "save_bundle",
    "seeded_noise",
    "ssim_index",
    "tensor_to_rgb",
    "train_autoencoder",
    "CheckpointError",
    "FrameModel",
    "FrameModelConfig",
    "PRoPE",
    "PixArtLoadReport",
    "ReferenceCache",
    "check_pixart_setup",
    "load_checkpoint_extra",
    "load_frame_model",
    "load_pixart_sigma_weights",
    "projection_matrices",
    "prope_attention",
    "save_checkpoint",
]
