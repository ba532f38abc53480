"""The ``frame-model`` generator: the distilled InSpatio-WorldFM-style frame model.

Per frame: the anchor render is encoded into the latent space (the reference view is
encoded once per session and its per-layer keys/values cached once per sampler timestep),
the distilled sampler runs (2 steps: t = 999, then re-noise to 200; InSpatio-WorldFM 2.5)
with noise seeded from the pose, and the latent is decoded and resized to the output size.
PyTorch float32 on CPU; bfloat16 autocast on CUDA.
"""

from __future__ import annotations

import os
import threading
from contextlib import nullcontext
from functools import lru_cache
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import torch

from worldbridge.generators.base import GenerationContext
from worldbridge.geometry import Intrinsics, invert_rigid

__all__ = ["FrameModelGenerator", "default_bundle_path", "frame_model_available", "ENV_BUNDLE"]

ENV_BUNDLE = "WORLDBRIDGE_FRAME_MODEL"
"""Environment variable naming a bundle directory to serve instead of the starter model."""


def default_bundle_path() -> Path:
    """``$WORLDBRIDGE_FRAME_MODEL`` if set, else the starter model shipped in the package."""
    env = os.environ.get(ENV_BUNDLE)
    if env:
        return Path(env)
    return Path(str(resources.files("worldbridge"))) / "assets" / "starter_model"


def frame_model_available() -> bool:
    """Whether a bundle is present where :func:`default_bundle_path` points."""
    from worldbridge.models.bundle import BUNDLE_FILE

    return (default_bundle_path() / BUNDLE_FILE).is_file()


_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def _load(path: str, device: str):
    from worldbridge.models.bundle import FrameModelBundle

    return FrameModelBundle.load(path, device=device)


def _to_tensor(rgb: np.ndarray, size: int, device) -> torch.Tensor:
    img = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA) if rgb.shape[:2] != (size, size) else rgb
    return torch.from_numpy(img).to(device).permute(2, 0, 1)[None].float().div(127.5).sub(1.0)


def _k_matrix(k: Intrinsics, size: int, device) -> torch.Tensor:
    s = k.scaled(size, size)
    return torch.tensor(s.K, dtype=torch.float32, device=device)[None]


class FrameModelGenerator:
    """Serves a frame-model bundle (see :mod:`worldbridge.models.bundle`).

    Args:
        bundle_path: bundle directory (default :func:`default_bundle_path`).
        device: ``"cpu"``/``"cuda"``; default CUDA when available.

    Raises:
        CheckpointError / AutoencoderCheckpointError: a missing or damaged bundle.
    """

    name = "frame-model"
    description = "distilled 2-step frame model (DiT + PRoPE) on the anchor and reference latents"

    def __init__(self, bundle_path: str | Path | None = None, device: str | None = None):
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        with _LOCK:
            self.bundle = _load(str(bundle_path or default_bundle_path()), str(self.device))
        self.size = self.bundle.model.config.image_size
        self._ref_key: int | None = None
        self._ref_caches: dict[int, object] = {}

    def _reference_caches(self, ctx: GenerationContext) -> dict[int, object]:
        key = id(ctx.reference_rgb)
        if key != self._ref_key:
            b, dev = self.bundle, self.device
            ref = b.autoencoder.encode(_to_tensor(ctx.reference_rgb, self.size, dev))
            w2c = torch.tensor(invert_rigid(ctx.reference_c2w), dtype=torch.float32, device=dev)[None]
            k = _k_matrix(ctx.reference_intrinsics, self.size, dev)
            self._ref_caches = {t: b.model.compute_reference_cache(ref, w2c, k, torch.tensor([t], device=dev))
                                for t in b.timesteps}
            self._ref_key = key
        return self._ref_caches

    @torch.inference_mode()
    def generate(self, ctx: GenerationContext) -> np.ndarray:
        """See :class:`~worldbridge.generators.base.FrameGenerator`; ``[H, W, 3]`` uint8."""
        from worldbridge.models.samplers import DistilledSampler

        b, dev = self.bundle, self.device
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if dev.type == "cuda" else nullcontext()
        with autocast:
            caches = self._reference_caches(ctx)
            anchor_img = _to_tensor(ctx.anchor_rgb, self.size, dev)
            hole = _to_tensor((~ctx.anchor_mask).astype(np.uint8)[..., None].repeat(3, -1) * 255,
                              self.size, dev) > 0.0
            anchor = b.autoencoder.encode(anchor_img.masked_fill(hole, 0.0))  # holes mid-grey, as in training
            w2c = torch.tensor(invert_rigid(ctx.target_c2w), dtype=torch.float32, device=dev)[None]
            k = _k_matrix(ctx.target_intrinsics, self.size, dev)

            def denoise(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
                return b.model(x, t, anchor, None, w2c, k, None, None,
                               reference_cache=caches[int(t[0])]).float()

            sampler = DistilledSampler(b.schedule, b.timesteps)
            x0 = sampler.sample(denoise, tuple(anchor.shape), [ctx.seed], device=dev)
            img = b.autoencoder.decode(x0.to(anchor.dtype)).float()
        rgb = ((img[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).cpu().numpy()
        h, w = ctx.anchor_rgb.shape[:2]
        return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_CUBIC) if (h, w) != rgb.shape[:2] else rgb
