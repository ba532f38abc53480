"""SD / SDXL ``AutoencoderKL`` from a local diffusers directory, behind :class:`Autoencoder`.

The KL autoencoder of latent diffusion (Rombach et al. 2022, "High-Resolution Image
Synthesis with Latent Diffusion Models", arXiv 2112.10752, section 3.1): f = 8, 4 latent channels, a
``scaling_factor`` in its config (0.18215 for SD 1.x / 2.x, 0.13025 for SDXL). The weights
cannot be fetched here; the user downloads them and gives the directory. Loading goes
through the ``diffusers`` library (``AutoencoderKL.from_pretrained(dir,
local_files_only=True, use_safetensors=True)``): no network, no pickles.

A directory is either a VAE directory (``config.json`` + ``diffusion_pytorch_model
.safetensors``, e.g. ``stabilityai/sdxl-vae`` or ``madebyollin/sdxl-vae-fp16-fix``) or a
full pipeline directory with such a ``vae/`` subfolder.

Latent normalisation follows diffusers' pipelines: ``latents = (mode - shift_factor) *
scaling_factor`` (``shift_factor`` 0 when the config has none); when the config has
``latents_mean`` and ``latents_std`` (per channel), ``latents = (mode - latents_mean) *
scaling_factor / latents_std`` instead. ``decode`` inverts it.

Precision: the original SDXL VAE overflows in float16 (its config says
``force_upcast: true``); load it in float32 or bfloat16, or use the fp16-fix weights.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from worldbridge.models.autoencoder import Autoencoder, check_image_batch
from worldbridge.models.checkpoint import CheckpointError, read_config

__all__ = [
    "SDXL_SCALING_FACTOR",
    "SD_SCALING_FACTOR",
    "DiffusersAutoencoderKL",
    "load_autoencoder_kl",
]

SD_SCALING_FACTOR = 0.18215
"""Latent scaling factor of the SD 1.x / 2.x VAE."""

SDXL_SCALING_FACTOR = 0.13025
"""Latent scaling factor of the SDXL VAE."""

_CONFIG = "config.json"
_WEIGHTS = "diffusion_pytorch_model.safetensors"


class DiffusersAutoencoderKL(nn.Module, Autoencoder):
    """A diffusers ``AutoencoderKL`` as an :class:`Autoencoder` (build with
    :func:`load_autoencoder_kl`).

    Args:
        vae: a ``diffusers.AutoencoderKL`` with 3 input and output channels.
        scaling_factor: overrides ``vae.config.scaling_factor`` when given (> 0).

    Raises:
        ValueError: the VAE does not have 3 input / output channels, or a non-positive
            scaling factor.
    """

    vae: Any  # a diffusers AutoencoderKL (its config and methods are not in nn.Module's types)
    _latents_mean: torch.Tensor | None  # buffers, or None (then both are)
    _latents_std: torch.Tensor | None

    def __init__(self, vae: nn.Module, scaling_factor: float | None = None) -> None:
        super().__init__()
        cfg: Any = vae.config
        if cfg.in_channels != 3 or cfg.out_channels != 3:
            raise ValueError("the AutoencoderKL must map RGB to RGB, got in_channels="
                             f"{cfg.in_channels}, out_channels={cfg.out_channels}")
        sf = float(cfg.scaling_factor if scaling_factor is None else scaling_factor)
        if not (sf > 0 and sf < float("inf")):
            raise ValueError(f"scaling_factor must be a finite number > 0, got {sf!r}")
        self.vae = vae
        self._scaling_factor = sf
        self._shift = float(getattr(cfg, "shift_factor", None) or 0.0)
        mean, std = getattr(cfg, "latents_mean", None), getattr(cfg, "latents_std", None)
        c = int(cfg.latent_channels)
        if mean is not None and std is not None:
            if len(mean) != c or len(std) != c:
                raise ValueError(f"latents_mean / latents_std must have {c} entries, got "
                                 f"{len(mean)} / {len(std)}")
            self.register_buffer("_latents_mean", torch.tensor(mean).view(1, c, 1, 1),
                                 persistent=False)
            self.register_buffer("_latents_std", torch.tensor(std).view(1, c, 1, 1),
                                 persistent=False)
        else:
            self._latents_mean = self._latents_std = None

    @property
    def latent_channels(self) -> int:
        return int(self.vae.config.latent_channels)

    @property
    def downsample(self) -> int:
        return 2 ** (len(self.vae.config.block_out_channels) - 1)

    @property
    def scaling_factor(self) -> float:
        return self._scaling_factor

    @property
    def device(self) -> torch.device:
        """The device of the weights."""
        return next(self.vae.parameters()).device

    @property
    def dtype(self) -> torch.dtype:
        """The dtype of the weights."""
        return next(self.vae.parameters()).dtype

    @torch.no_grad()
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Encode images to scaled latents from the posterior's mode (deterministic).

        Args:
            images: ``[B, 3, H, W]`` floating, RGB in ``[-1, 1]``; H, W multiples of
                :attr:`downsample`. Moved to the VAE's device and dtype.

        Returns:
            ``[B, C, H / f, W / f]`` scaled latents (module docstring) in the VAE's dtype.

        Raises:
            ValueError: wrong shape or dtype, or H / W not multiples of f.
        """
        check_image_batch(images, self.downsample)
        x = images.to(device=self.device, dtype=self.dtype)
        z = self.vae.encode(x).latent_dist.mode()
        if self._latents_mean is not None:
            return (z - self._latents_mean.to(z)) * self._scaling_factor / cast(torch.Tensor, self._latents_std).to(z)
        return (z - self._shift) * self._scaling_factor

    @torch.no_grad()
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Decode scaled latents to images.

        Args:
            latents: ``[B, C, h, w]`` floating, as :meth:`encode` returns them.

        Returns:
            ``[B, 3, h * f, w * f]`` images, nominally in ``[-1, 1]`` (not clamped), in the
            VAE's dtype, on its device.

        Raises:
            ValueError: not a ``[B, C, h, w]`` floating tensor with C = latent_channels.
        """
        check_image_batch(latents, 1, self.latent_channels, name="latents")
        z = latents.to(device=self.device, dtype=self.dtype)
        if self._latents_mean is not None:
            z = z * cast(torch.Tensor, self._latents_std).to(z) / self._scaling_factor + self._latents_mean.to(z)
        else:
            z = z / self._scaling_factor + self._shift
        return self.vae.decode(z).sample


def _vae_directory(path: Path) -> Path:
    """The directory holding the VAE's config.json (the path itself or its ``vae/``)."""
    if not path.exists():
        raise CheckpointError(
            f"AutoencoderKL path {str(path)!r} does not exist; download the VAE (e.g. "
            "stabilityai/sdxl-vae) and give its local directory")
    if not path.is_dir():
        raise CheckpointError(
            f"AutoencoderKL path {str(path)!r} is not a directory; give the directory that "
            f"holds {_CONFIG} and {_WEIGHTS}")
    for d in (path, path / "vae"):
        if (d / _CONFIG).is_file():
            return d
    raise CheckpointError(f"{str(path)!r} has no {_CONFIG} (nor vae/{_CONFIG}); "
                          "expected a diffusers AutoencoderKL directory")


def load_autoencoder_kl(path: str | os.PathLike, device: Any = None,
                        dtype: torch.dtype = torch.float32,
                        scaling_factor: float | None = None) -> DiffusersAutoencoderKL:
    """Load an SD / SDXL-style ``AutoencoderKL`` from a local diffusers directory.

    Never touches the network (``local_files_only=True``) and reads only safetensors.

    Args:
        path: a VAE directory (``config.json`` + ``diffusion_pytorch_model.safetensors``)
            or a pipeline directory with a ``vae/`` subfolder.
        device: where to put the weights (default CPU).
        dtype: floating dtype of the weights (float32 default; see the module docstring
            about float16 and the SDXL VAE).
        scaling_factor: overrides the config's ``scaling_factor`` (default: the config's,
            0.13025 for SDXL, 0.18215 for SD).

    Returns:
        The :class:`DiffusersAutoencoderKL`, in eval mode.

    Raises:
        ImportError: ``diffusers`` is not installed (``pip install diffusers``).
        CheckpointError: the path is missing or not a directory, has no ``config.json``
            or ``diffusion_pytorch_model.safetensors``, the config is not a readable JSON object
            (:func:`~worldbridge.models.checkpoint.read_config`) or not an ``AutoencoderKL``
            one, or diffusers cannot load the files.
        ValueError: a bad ``scaling_factor`` or a VAE that is not RGB to RGB.
    """
    d = _vae_directory(Path(path))
    cls_name = read_config(d, _CONFIG).get("_class_name")
    if cls_name not in (None, "AutoencoderKL"):
        raise CheckpointError(f"{str(d / _CONFIG)!r} describes a {cls_name!r}, not an AutoencoderKL")
    if not (d / _WEIGHTS).is_file():
        raise CheckpointError(
            f"{str(d)!r} has no {_WEIGHTS} (only safetensors weights are loaded, never "
            "pickled .bin files)")
    try:
        from diffusers import AutoencoderKL
    except ImportError as e:
        raise ImportError("loading an AutoencoderKL needs the diffusers library: "
                          f"pip install diffusers ({e})") from e
    try:
        vae = AutoencoderKL.from_pretrained(str(d), local_files_only=True, use_safetensors=True,
                                            low_cpu_mem_usage=False, torch_dtype=dtype)
    except (OSError, ValueError, RuntimeError, KeyError, TypeError) as e:
        raise CheckpointError(f"diffusers cannot load the AutoencoderKL in {str(d)!r}: {e}") from e
    model = DiffusersAutoencoderKL(vae, scaling_factor=scaling_factor)
    model.to(device=device if device is not None else "cpu")
    return model.eval()
