"""The frame model's architecture config (a frozen dataclass saved as JSON beside the weights).

The paper-sized model is InSpatio-WorldFM's (arXiv 2603.11911, sections 2.3 and 2.4.1): a
PixArt-Sigma XL/2 backbone (Chen et al. 2024, "PixArt-Sigma"; 28 layers, hidden 1152,
16 heads, patch 2, 4 latent channels) on 512 x 512 images whose f8 latents are 64 x 64, so
the width-concatenated [target | anchor | reference] input is 3 x 32 x 32 = 3072 tokens.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from typing import Any

__all__ = ["FrameModelConfig", "LEGACY_CONDITIONING", "POSE_NORMALIZATIONS"]

_INT_FIELDS = ("latent_channels", "patch_size", "latent_size", "hidden_size", "depth",
               "num_heads", "image_size")
_BOOL_FIELDS = ("use_prope", "reference_self_attention_only", "learn_sigma",
                "anchor_mask_channel")

POSE_NORMALIZATIONS = ("none", "reference_depth")
"""Values of :attr:`FrameModelConfig.pose_normalization`."""

LEGACY_CONDITIONING = {"anchor_mask_channel": False, "pose_normalization": "none",
                       "anchor_hole_value": 0.0}
"""Conditioning of checkpoints written before the conditioning fields existed (checkpoint
format 1, e.g. the first starter model): no coverage-mask input, raw metric poses, mid-grey
holes. :func:`~worldbridge.models.checkpoint.load_frame_model` fills them in for such files."""


@dataclass(frozen=True)
class FrameModelConfig:
    """Architecture of :class:`~worldbridge.models.dit.FrameModel`.

    The defaults are the paper-sized model (:meth:`xl`).

    Attributes:
        latent_channels: C, channels of the autoencoder latent (4 for the SD/SDXL VAE).
        patch_size: p, side of the square patch one token covers, in latent pixels.
        latent_size: h = w, side of the square latent (64 for 512-pixel images and an f8
            autoencoder). Inputs must be exactly ``[B, C, latent_size, latent_size]``.
        hidden_size: D, token width.
        depth: number of transformer blocks.
        num_heads: attention heads; ``head_dim = hidden_size / num_heads``.
        mlp_ratio: MLP hidden width / D.
        image_size: side of the square image the cameras' intrinsics K refer to, in pixels
            (PRoPE normalises K by it).
        use_prope: encode the cameras with PRoPE (Li et al. 2025) in every attention layer.
            Off: plain attention (PixArt's), the cameras are ignored.
        reference_self_attention_only: reference tokens attend only to reference tokens, so
            their keys and values can be cached across target poses
            (:meth:`FrameModel.compute_reference_cache`); target and anchor tokens always
            attend to all tokens.
        learn_sigma: also predict the variance (DiT/PixArt style); the output then has
            ``2 * latent_channels`` channels, epsilon first.

    Conditioning (how the inputs are prepared; the inference pipeline and the trainer both
    read these, so a model is always served the way it was trained):

    Attributes:
        anchor_mask_channel: the anchor's coverage (the fraction of each latent pixel that
            anchor points cover, ``[B, 1, h, w]`` in [0, 1]) is an input: patch-embedded by
            its own zero-initialised layer and added to the anchor tokens, so the model
            knows which regions it must invent (the paper's anchor masking made explicit).
        pose_normalization: ``"none"``: PRoPE sees world-to-camera translations in metres;
            ``"reference_depth"``: translations are divided by the scene scale, the median
            valid depth of the reference view (:func:`~worldbridge.models.conditioning.
            depth_scale`), so a scene built 10x larger gives the same frames (the PRoPE
            reference implementation normalises the scale of its cameras too; Li et al.
            2025, section 4).
        anchor_hole_value: value of uncovered anchor pixels in the model's [-1, 1] image
            units (0.0: mid grey), applied by the one anchor builder
            (:func:`~worldbridge.memory.anchors.anchor_model_image`).
    """

    latent_channels: int = 4
    patch_size: int = 2
    latent_size: int = 64
    hidden_size: int = 1152
    depth: int = 28
    num_heads: int = 16
    mlp_ratio: float = 4.0
    image_size: int = 512
    use_prope: bool = True
    reference_self_attention_only: bool = True
    learn_sigma: bool = False
    anchor_mask_channel: bool = True
    pose_normalization: str = "reference_depth"
    anchor_hole_value: float = 0.0

    def __post_init__(self) -> None:
        for name in _INT_FIELDS:
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int):
                raise ValueError(f"FrameModelConfig.{name} must be an int, got {v!r}")
            if v <= 0:
                raise ValueError(f"FrameModelConfig.{name} must be > 0, got {v}")
        for name in _BOOL_FIELDS:
            v = getattr(self, name)
            if not isinstance(v, bool):
                raise ValueError(f"FrameModelConfig.{name} must be a bool, got {v!r}")
        r = self.mlp_ratio
        if isinstance(r, bool) or not isinstance(r, (int, float)) or not math.isfinite(r) or r <= 0:
            raise ValueError(f"FrameModelConfig.mlp_ratio must be a finite number > 0, got {r!r}")
        if self.pose_normalization not in POSE_NORMALIZATIONS:
            raise ValueError(f"FrameModelConfig.pose_normalization must be one of "
                             f"{POSE_NORMALIZATIONS}, got {self.pose_normalization!r}")
        h = self.anchor_hole_value
        if isinstance(h, bool) or not isinstance(h, (int, float)) or not -1.0 <= h <= 1.0:
            raise ValueError(f"FrameModelConfig.anchor_hole_value must be a number in [-1, 1], "
                             f"got {h!r}")
        if int(self.hidden_size * r) < 1:
            raise ValueError(f"mlp_ratio {r} gives an empty MLP for hidden_size {self.hidden_size}")
        if self.latent_size % self.patch_size:
            raise ValueError(
                f"latent_size {self.latent_size} must be divisible by patch_size {self.patch_size}")
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size {self.hidden_size} must be divisible by num_heads {self.num_heads}")
        if self.hidden_size % 4:
            raise ValueError(
                f"hidden_size {self.hidden_size} must be divisible by 4 "
                "(2D sin-cos position embedding: sin and cos of x and y)")
        if self.use_prope and self.head_dim % 8:
            raise ValueError(
                f"PRoPE needs head_dim = hidden_size / num_heads divisible by 8, got "
                f"{self.hidden_size} / {self.num_heads} = {self.head_dim}: half the channels are "
                "4x4 projective blocks (head_dim / 2 divisible by 4) and each quarter gets RoPE "
                "in cos/sin pairs (head_dim / 4 even); use use_prope=False or change num_heads")

    # ----------------------------------------------------------------- derived
    @property
    def head_dim(self) -> int:
        """Channels per attention head (``hidden_size // num_heads``)."""
        return self.hidden_size // self.num_heads

    @property
    def grid_size(self) -> int:
        """Tokens per side of one image third (``latent_size // patch_size``)."""
        return self.latent_size // self.patch_size

    @property
    def tokens_per_image(self) -> int:
        """Tokens of one third (target, anchor or reference): ``grid_size ** 2``."""
        return self.grid_size * self.grid_size

    @property
    def out_channels(self) -> int:
        """Output channels: C, or 2C with :attr:`learn_sigma`."""
        return self.latent_channels * (2 if self.learn_sigma else 1)

    # ----------------------------------------------------------------- presets
    @classmethod
    def tiny(cls, **overrides: Any) -> FrameModelConfig:
        """CPU test size: depth 2, hidden 64, 4 heads, 8 x 8 latents of 64-pixel images."""
        preset = {"latent_size": 8, "hidden_size": 64, "depth": 2, "num_heads": 4, "image_size": 64}
        return cls(**{**preset, **overrides})

    @classmethod
    def small(cls, **overrides: Any) -> FrameModelConfig:
        """Small model: depth 8, hidden 384, 6 heads, 32 x 32 latents of 256-pixel images."""
        preset = {"latent_size": 32, "hidden_size": 384, "depth": 8, "num_heads": 6, "image_size": 256}
        return cls(**{**preset, **overrides})

    @classmethod
    def xl(cls, **overrides: Any) -> FrameModelConfig:
        """The paper's size, PixArt-Sigma XL/2 at 512 px: depth 28, hidden 1152, 16 heads."""
        preset = {"latent_size": 64, "hidden_size": 1152, "depth": 28, "num_heads": 16,
                  "image_size": 512}
        return cls(**{**preset, **overrides})

    # ----------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """The fields as a plain JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FrameModelConfig:
        """Build from :meth:`to_dict` output.

        Keys starting with ``_`` are metadata (for example ``_class_name`` in a checkpoint's
        ``config.json``) and are ignored; missing keys take their defaults.

        Raises:
            ValueError: ``data`` is not a dict, has unknown keys, or fails validation.
        """
        if not isinstance(data, dict):
            raise ValueError(f"FrameModelConfig.from_dict needs a dict, got {type(data).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(k for k in data if k not in known and not str(k).startswith("_"))
        if unknown:
            raise ValueError(f"unknown FrameModelConfig keys {unknown}; known: {sorted(known)}")
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_json(self, indent: int | None = 2) -> str:
        """JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FrameModelConfig:
        """Parse :meth:`to_json` output.

        Raises:
            ValueError: not valid JSON, or as :meth:`from_dict`.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"FrameModelConfig JSON is not valid JSON: {e}") from None
        return cls.from_dict(data)
