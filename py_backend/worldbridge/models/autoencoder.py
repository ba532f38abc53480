"""The autoencoder interface: the latent space the frame model works in.

An :class:`Autoencoder` maps images in ``[-1, 1]`` to latents ``f`` times smaller in each
spatial dimension and back, as the KL autoencoder of latent diffusion (Rombach et al. 2022,
"High-Resolution Image Synthesis with Latent Diffusion Models", arXiv 2112.10752, section 3.1). Two
implementations exist:

* :class:`~worldbridge.models.compact_autoencoder.CompactAutoencoder`: a small KL
  autoencoder this project trains itself (fast on a CPU, for tests and small models).
* :func:`~worldbridge.models.autoencoder_kl.load_autoencoder_kl`: an SD / SDXL
  ``AutoencoderKL`` loaded from a local diffusers directory.

Conventions shared by every implementation:

* Images are ``[B, 3, H, W]`` floating tensors, RGB, values in ``[-1, 1]`` (``-1`` black,
  ``1`` white); H and W must be multiples of :attr:`Autoencoder.downsample`.
* Latents are ``[B, C, H / f, W / f]``, already multiplied by the autoencoder's
  ``scaling_factor`` (so they have roughly unit variance; ``decode`` divides it out).
* ``encode`` is deterministic: it returns the posterior's mode (the mean of the diagonal
  Gaussian), never a sample, so the same image always gives the same latent.
* ``encode`` and ``decode`` run without gradient tracking (``torch.no_grad``).
"""

from __future__ import annotations

import abc
from typing import Any

import numpy as np
import torch

__all__ = ["Autoencoder", "check_image_batch", "rgb_to_tensor", "tensor_to_rgb"]


class Autoencoder(abc.ABC):
    """An image autoencoder with a spatial latent (the frame model's latent space).

    Implementations are usually also ``torch.nn.Module`` subclasses (so ``.to(device)``
    works); the interface itself only needs the members below. See the module docstring
    for the shape, range and determinism conventions.
    """

    @property
    @abc.abstractmethod
    def latent_channels(self) -> int:
        """Latent channels C (4 for SD / SDXL and the compact autoencoder)."""

    @property
    @abc.abstractmethod
    def downsample(self) -> int:
        """Spatial downsampling factor f (8 for SD / SDXL): latents are ``H / f x W / f``."""

    @property
    @abc.abstractmethod
    def scaling_factor(self) -> float:
        """The factor ``encode`` multiplies the posterior mean by (and ``decode`` divides)."""

    @abc.abstractmethod
    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Encode images into scaled latents, deterministically (the posterior's mode).

        Args:
            images: ``[B, 3, H, W]`` floating tensor, RGB in ``[-1, 1]``; H and W multiples
                of :attr:`downsample`.

        Returns:
            ``[B, C, H / f, W / f]`` latents (times :attr:`scaling_factor`), on the
            autoencoder's device and in its dtype.

        Raises:
            ValueError: not a ``[B, 3, H, W]`` floating tensor, or H / W not multiples of f.
        """

    @abc.abstractmethod
    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """Decode scaled latents into images.

        Args:
            latents: ``[B, C, h, w]`` floating tensor, scaled as :meth:`encode` returns them.

        Returns:
            ``[B, 3, h * f, w * f]`` images, RGB, nominally in ``[-1, 1]`` (not clamped),
            on the autoencoder's device and in its dtype.

        Raises:
            ValueError: not a ``[B, C, h, w]`` floating tensor with C = latent_channels.
        """


def check_image_batch(images: Any, downsample: int, channels: int = 3,
                      name: str = "images") -> torch.Tensor:
    """Check an image (or latent) batch: a ``[B, channels, H, W]`` floating tensor.

    Args:
        images: the tensor to check.
        downsample: H and W must be multiples of it (1 for latents).
        channels: the required channel count.
        name: the argument's name in error messages.

    Returns:
        ``images`` unchanged.

    Raises:
        ValueError: not a floating torch tensor of that shape.
    """
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"{name} must be a torch tensor, got {type(images).__name__}")
    if not images.dtype.is_floating_point:
        raise ValueError(f"{name} must be floating point, got {images.dtype}")
    if images.ndim != 4 or images.shape[1] != channels or images.shape[0] == 0:
        raise ValueError(f"{name} must be [B, {channels}, H, W] with B >= 1, "
                         f"got shape {list(images.shape)}")
    h, w = images.shape[2], images.shape[3]
    if h == 0 or w == 0 or h % downsample or w % downsample:
        raise ValueError(f"{name} height and width must be positive multiples of the "
                         f"downsampling factor {downsample}, got {h}x{w} (H x W)")
    return images


def rgb_to_tensor(rgb: Any, device: Any = None, dtype: torch.dtype = torch.float32
                  ) -> torch.Tensor:
    """uint8 RGB images (numpy or torch) to an autoencoder batch in ``[-1, 1]``.

    ``x = rgb / 127.5 - 1`` (0 -> -1, 255 -> 1).

    Args:
        rgb: ``[H, W, 3]`` or ``[B, H, W, 3]`` uint8, channels last (row 0 at the top).
        device: the result's device (default: CPU, or the input tensor's).
        dtype: the result's floating dtype.

    Returns:
        ``[B, 3, H, W]`` tensor in ``[-1, 1]`` (B = 1 for a single image).

    Raises:
        ValueError: not uint8, or not ``[H, W, 3]`` / ``[B, H, W, 3]``.
    """
    t = rgb if isinstance(rgb, torch.Tensor) else None
    if t is None:
        if not isinstance(rgb, np.ndarray):
            raise ValueError(f"rgb must be a numpy array or torch tensor, got {type(rgb).__name__}")
        t = torch.from_numpy(np.ascontiguousarray(rgb))
    if t.dtype != torch.uint8:
        raise ValueError(f"rgb must be uint8, got {t.dtype}")
    if t.ndim == 3:
        t = t[None]
    if t.ndim != 4 or t.shape[3] != 3:
        raise ValueError(f"rgb must be [H, W, 3] or [B, H, W, 3], got shape {list(rgb.shape)}")
    t = t.to(device=device if device is not None else t.device)
    return t.permute(0, 3, 1, 2).to(dtype).div_(127.5).sub_(1.0).contiguous()


def tensor_to_rgb(images: torch.Tensor) -> np.ndarray:
    """An image batch in ``[-1, 1]`` to uint8 RGB (clamped, rounded to nearest).

    Args:
        images: ``[B, 3, H, W]`` or ``[3, H, W]`` floating tensor, any device.

    Returns:
        ``[B, H, W, 3]`` (or ``[H, W, 3]`` for a 3-d input) uint8 numpy array, channels
        last; the inverse of :func:`rgb_to_tensor` up to rounding.

    Raises:
        ValueError: not a floating tensor with 3 channels in dimension -3.
    """
    if not isinstance(images, torch.Tensor) or not images.dtype.is_floating_point:
        raise ValueError("images must be a floating torch tensor, got "
                         f"{getattr(images, 'dtype', type(images).__name__)}")
    if images.ndim not in (3, 4) or images.shape[-3] != 3:
        raise ValueError(f"images must be [B, 3, H, W] or [3, H, W], got shape {list(images.shape)}")
    x = images.detach().float().add(1.0).mul_(127.5).round_().clamp_(0, 255).to(torch.uint8)
    return x.movedim(-3, -1).cpu().numpy()
