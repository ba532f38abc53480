"""The ``frame-model-onnx`` generator: the frame model served by ONNX Runtime.

The same :class:`~worldbridge.models.pipeline.FramePipeline` as the ``frame-model``
generator, on an :class:`~worldbridge.models.onnx_backend.OnnxBackend` over the graphs of
``worldbridge export-onnx``; it produces the same frames up to float32 rounding (the tests
allow 2 grey levels).
"""

from __future__ import annotations

import importlib.util
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from worldbridge.generators.base import GenerationContext
from worldbridge.generators.options import GeneratorOptions

__all__ = ["FrameModelOnnxGenerator", "default_onnx_path", "frame_model_onnx_available"]


def default_onnx_path() -> Path:
    """The export served without options: ``$WORLDBRIDGE_FRAME_MODEL_ONNX``, else
    ``<default bundle>/onnx``."""
    return GeneratorOptions().onnx_path()


def frame_model_onnx_available(options: GeneratorOptions | None = None) -> bool:
    """Whether ``onnxruntime`` is importable and an export is where ``options`` point.

    Cheap: looks for the package and the manifest without importing ONNX Runtime.
    """
    from worldbridge.models.onnx_export import MANIFEST_FILE

    return (importlib.util.find_spec("onnxruntime") is not None
            and ((options or GeneratorOptions()).onnx_path() / MANIFEST_FILE).is_file())


_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _load(path: str, providers: tuple[str, ...] | None, threads: int | None):
    from worldbridge.models.onnx_backend import OnnxFrameModel

    return OnnxFrameModel(path, providers, threads)


class FrameModelOnnxGenerator:
    """Serves an ONNX export of a frame-model bundle with ONNX Runtime.

    Args:
        options: export path, providers, threads, anchor lock (default
            :class:`GeneratorOptions`).

    Raises:
        ImportError: ``onnxruntime`` is not installed.
        FileNotFoundError / ValueError: a missing or bad export, or an unavailable provider.
    """

    name = "frame-model-onnx"
    description = ("distilled 2-step frame model (DiT + PRoPE) run by ONNX Runtime "
                   "(TensorRT / CUDA / CPU providers)")

    def __init__(self, options: GeneratorOptions | None = None):
        from worldbridge.models.config import FrameModelConfig
        from worldbridge.models.onnx_backend import OnnxBackend
        from worldbridge.models.pipeline import FramePipeline, PipelineOptions
        from worldbridge.models.samplers import DistilledSampler
        from worldbridge.models.schedule import NoiseSchedule, ScheduleConfig

        self.options = options or GeneratorOptions()
        o = self.options
        with _LOCK:
            self.model = _load(str(o.onnx_path()), o.ort_providers, o.ort_threads)
        m = self.model.manifest
        schedule = NoiseSchedule(ScheduleConfig(**m["schedule"]))
        self.pipeline = FramePipeline(
            OnnxBackend(self.model), FrameModelConfig.from_dict(m["model_config"]), schedule,
            DistilledSampler(schedule, [int(t) for t in m["sampler_timesteps"]]),
            PipelineOptions(anchor_lock=o.anchor_lock, feather_px=o.feather_px))

    @property
    def providers(self) -> list[str]:
        """The ONNX Runtime providers in use, best first."""
        return list(self.model.providers)

    def generate(self, ctx: GenerationContext) -> np.ndarray:
        """See :class:`~worldbridge.generators.base.FrameGenerator`; ``[H, W, 3]`` uint8."""
        return self.pipeline.generate(ctx.anchor_rgb, ctx.anchor_mask, ctx.target,
                                      ctx.references, ctx.seed)
