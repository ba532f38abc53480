"""How the frame model's conditions are prepared, shared by the trainer and the pipeline.

The model is served exactly as it was trained only if both sides prepare its inputs with
the same code. This module holds the parts that depend on the model's
:class:`~worldbridge.models.config.FrameModelConfig` conditioning fields:

* :func:`depth_scale` (from the anchor builder): the scene scale of a view, the median of
  its valid depth, metres.
* :func:`normalize_cameras`: world-to-camera translations divided by that scale when the
  config says ``pose_normalization="reference_depth"``. PRoPE (Li et al. 2025, "Cameras as
  Relative Positional Encoding", arXiv 2507.10496) multiplies features by projective
  matrices whose translation column is in world units; raw metres make attention depend
  on how large a level happens to be built (a scene scaled by 10 changed attention outputs
  by more than their own magnitude). Dividing by a scale that grows with the scene makes
  the model's output invariant to that scaling; the PRoPE reference code normalises the
  scale of its camera rigs for the same reason.
* :func:`latent_coverage`: the anchor's pixel coverage averaged over each latent pixel,
  the input of ``anchor_mask_channel`` models.

The image-level anchor preparation (sky rule, hole value, resizing) is the one anchor
builder, :mod:`worldbridge.memory.anchors`.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from worldbridge.memory.anchors import depth_scale

__all__ = ["depth_scale", "latent_coverage", "normalize_cameras"]


def normalize_cameras(w2c: torch.Tensor, scale: torch.Tensor | float | None,
                      pose_normalization: str) -> torch.Tensor:
    """World-to-camera transforms in the units the model was trained with.

    Args:
        w2c: ``[..., 4, 4]`` OpenCV world-to-camera transforms, metres.
        scale: scene scale(s) in metres, broadcastable to ``w2c.shape[:-2]`` (a float, or a
            ``[B]`` tensor, one per sample: the scale of the sample's reference view).
        pose_normalization: ``"none"`` (returned unchanged) or ``"reference_depth"``
            (translations divided by ``scale``).

    Returns:
        ``[..., 4, 4]``, same dtype and device (a new tensor unless unchanged).

    Raises:
        ValueError: an unknown mode, or a non-positive or non-finite scale.
    """
    if pose_normalization == "none":
        return w2c
    if pose_normalization != "reference_depth":
        raise ValueError(f"pose_normalization must be 'none' or 'reference_depth', got "
                         f"{pose_normalization!r}")
    s = torch.as_tensor(1.0 if scale is None else scale, dtype=w2c.dtype, device=w2c.device)
    if not bool(torch.isfinite(s).all()) or not bool((s > 0).all()):
        raise ValueError(f"scene scale must be finite and > 0 metres, got {s.tolist()}")
    out = w2c.clone()
    out[..., :3, 3] = w2c[..., :3, 3] / s.reshape(s.shape + (1,))
    return out


def latent_coverage(mask: torch.Tensor, latent_size: int) -> torch.Tensor:
    """Fraction of each latent pixel that anchor points cover.

    Args:
        mask: ``[B, 1, S, S]`` float or bool pixel coverage (1 = covered), ``S`` a multiple
            of ``latent_size``.
        latent_size: h, the latent side.

    Returns:
        ``[B, 1, h, h]`` float32 in [0, 1] (area average over ``S / h`` pixel squares).

    Raises:
        ValueError: a mask of another rank, non-square, or not a multiple of ``latent_size``.
    """
    if mask.ndim != 4 or mask.shape[1] != 1 or mask.shape[2] != mask.shape[3]:
        raise ValueError(f"mask must be [B, 1, S, S], got {tuple(mask.shape)}")
    s = mask.shape[-1]
    if s % latent_size:
        raise ValueError(f"mask side {s} is not a multiple of the latent size {latent_size}")
    return F.avg_pool2d(mask.float(), s // latent_size)
