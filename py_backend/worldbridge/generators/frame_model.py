"""The ``frame-model`` generator: a frame-model bundle served on PyTorch.

All the work is :class:`~worldbridge.models.pipeline.FramePipeline` (anchor preparation,
nearest reference view and its key/value cache, pose-seeded 2-step sampling, decoding,
framing and anchor-locked compositing) on a
:class:`~worldbridge.models.pipeline.TorchBackend`; the weights are loaded once per
process and shared by every session of the worker.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from worldbridge.generators.base import GenerationContext
from worldbridge.generators.options import GeneratorOptions

__all__ = ["FrameModelGenerator", "default_bundle_path", "frame_model_available"]


def default_bundle_path() -> Path:
    """The bundle served without options: ``$WORLDBRIDGE_FRAME_MODEL``, else the starter model."""
    return GeneratorOptions().bundle_path()


def frame_model_available(options: GeneratorOptions | None = None) -> bool:
    """Whether a bundle is present where ``options`` point (cheap: looks for ``bundle.json``)."""
    from worldbridge.models.bundle import BUNDLE_FILE

    return ((options or GeneratorOptions()).bundle_path() / BUNDLE_FILE).is_file()


_LOCK = threading.Lock()


@lru_cache(maxsize=2)
def _backend(path: str, device: str | None, precision: str, cuda_graphs: bool):
    import torch

    from worldbridge.models.bundle import FrameModelBundle
    from worldbridge.models.pipeline import TorchBackend

    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    bundle = FrameModelBundle.load(path, device=dev)
    return bundle, TorchBackend(bundle.model, bundle.autoencoder, dev, precision, cuda_graphs)


class FrameModelGenerator:
    """Serves a frame-model bundle (see :mod:`worldbridge.models.bundle`).

    Args:
        options: bundle path, device, precision, CUDA graphs, anchor lock (default
            :class:`GeneratorOptions`).

    Raises:
        CheckpointError: a missing or damaged bundle.
        ValueError: a bad device or precision.
    """

    name = "frame-model"
    description = "distilled 2-step frame model (DiT + PRoPE) on the anchor and reference latents"

    def __init__(self, options: GeneratorOptions | None = None):
        from worldbridge.models.pipeline import FramePipeline, PipelineOptions
        from worldbridge.models.samplers import DistilledSampler

        self.options = options or GeneratorOptions()
        o = self.options
        with _LOCK:
            self.bundle, backend = _backend(str(o.bundle_path()), o.device, o.precision,
                                            o.cuda_graphs)
        b = self.bundle
        self.pipeline = FramePipeline(backend, b.model.config, b.schedule,
                                      DistilledSampler(b.schedule, b.timesteps),
                                      PipelineOptions(anchor_lock=o.anchor_lock,
                                                      feather_px=o.feather_px))

    def generate(self, ctx: GenerationContext) -> np.ndarray:
        """See :class:`~worldbridge.generators.base.FrameGenerator`; ``[H, W, 3]`` uint8."""
        return self.pipeline.generate(ctx.anchor_rgb, ctx.anchor_mask, ctx.target,
                                      ctx.references, ctx.seed)
