"""The ``frame-model-onnx`` generator: the frame model served by ONNX Runtime.

The same pipeline as :class:`~worldbridge.generators.frame_model.FrameModelGenerator`, on the
graphs :func:`worldbridge.models.onnx_export.export_onnx` writes: the anchor render is
encoded (``encoder.onnx``); the reference view is encoded once per reference image and its
per-layer keys/values computed once per sampler timestep (``reference_cache.onnx``) and kept
on the execution device; the distilled sampler (:class:`~worldbridge.models.samplers.
DistilledSampler` and the bundle's :class:`~worldbridge.models.schedule.NoiseSchedule`, the
same code as the PyTorch generator) calls ``denoiser.onnx`` once per step, with noise seeded
from the context's seed; ``decoder.onnx`` decodes and the frame is resized to the anchor's size.

Execution providers: TensorRT, then CUDA, when ``onnxruntime.get_available_providers()``
lists them (the ``onnxruntime-gpu`` wheel), always with the CPU provider last; a
TensorRT/CUDA provider that fails to start falls back to the next. Source: ONNX Runtime's
execution providers and I/O binding (https://onnxruntime.ai/docs/execution-providers/,
https://onnxruntime.ai/docs/api/python/api_summary.html#iobinding).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from worldbridge.generators.base import GenerationContext
from worldbridge.generators.frame_model import _k_matrix, _to_tensor, default_bundle_path
from worldbridge.geometry import invert_rigid

__all__ = [
    "ENV_ONNX",
    "ENV_ORT_PROVIDERS",
    "ENV_ORT_THREADS",
    "FrameModelOnnxGenerator",
    "OnnxFrameModel",
    "default_onnx_path",
    "frame_model_onnx_available",
    "select_providers",
]

log = logging.getLogger(__name__)

ENV_ONNX = "WORLDBRIDGE_FRAME_MODEL_ONNX"
"""Environment variable naming an export directory (default ``<default bundle>/onnx``)."""

ENV_ORT_PROVIDERS = "WORLDBRIDGE_ORT_PROVIDERS"
"""Comma-separated ONNX Runtime providers to use instead of the automatic choice."""

ENV_ORT_THREADS = "WORLDBRIDGE_ORT_THREADS"
"""Intra-op threads of every ONNX Runtime session (default: ONNX Runtime's, 0)."""

PROVIDER_PREFERENCE = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
_GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


def default_onnx_path() -> Path:
    """``$WORLDBRIDGE_FRAME_MODEL_ONNX`` if set, else ``onnx/`` inside the default bundle."""
    env = os.environ.get(ENV_ONNX)
    return Path(env) if env else default_bundle_path() / "onnx"


def frame_model_onnx_available() -> bool:
    """Whether ``onnxruntime`` is importable and an export is where :func:`default_onnx_path` points.

    Cheap: looks for the package and the manifest without importing ONNX Runtime.
    """
    from worldbridge.models.onnx_export import MANIFEST_FILE

    return (importlib.util.find_spec("onnxruntime") is not None
            and (default_onnx_path() / MANIFEST_FILE).is_file())


def select_providers(available: Sequence[str] | None = None,
                     requested: Sequence[str] | None = None) -> list[str]:
    """ONNX Runtime execution providers to use, best first, the CPU provider always last.

    Args:
        available: the providers this ONNX Runtime build has (default
            ``onnxruntime.get_available_providers()``).
        requested: providers the caller wants (default ``$WORLDBRIDGE_ORT_PROVIDERS``, comma
            separated, else TensorRT, CUDA, CPU as available).

    Returns:
        The requested (or preferred) providers that are available, in that order, plus
        ``CPUExecutionProvider`` if it is not already in the list.

    Raises:
        ValueError: a requested provider this build does not have (the message lists those
            it has).
    """
    if available is None:
        import onnxruntime as ort

        available = ort.get_available_providers()
    available = list(available)
    if requested is None:
        env = os.environ.get(ENV_ORT_PROVIDERS, "").strip()
        requested = [p.strip() for p in env.split(",") if p.strip()] if env else None
    if requested is not None:
        missing = [p for p in requested if p not in available]
        if missing:
            raise ValueError(f"ONNX Runtime providers {missing} are not available; this build has "
                             f"{available}")
        chosen = list(dict.fromkeys(requested))
    else:
        chosen = [p for p in PROVIDER_PREFERENCE if p in available]
    if "CPUExecutionProvider" not in chosen:
        chosen.append("CPUExecutionProvider")
    return chosen


def _threads(intra_op_threads: int | None) -> int:
    if intra_op_threads is None:
        env = os.environ.get(ENV_ORT_THREADS, "").strip()
        try:
            intra_op_threads = int(env) if env else 0
        except ValueError:
            raise ValueError(f"${ENV_ORT_THREADS} must be an integer, got {env!r}") from None
    if isinstance(intra_op_threads, bool) or not isinstance(intra_op_threads, int) or intra_op_threads < 0:
        raise ValueError(f"intra_op_threads must be an int >= 0 (0: ONNX Runtime's default), "
                         f"got {intra_op_threads!r}")
    return intra_op_threads


def _provider_options(name: str, export_dir: Path, device_id: int) -> tuple[str, dict] | str:
    if name == "CUDAExecutionProvider":
        return name, {"device_id": device_id}
    if name == "TensorrtExecutionProvider":
        opts: dict[str, Any] = {"device_id": device_id}
        cache = export_dir / "trt_cache"
        if os.access(export_dir, os.W_OK):  # engines take minutes to build: keep them
            opts.update(trt_engine_cache_enable=True, trt_engine_cache_path=str(cache))
        return name, opts
    return name


class OnnxFrameModel:
    """The four ONNX Runtime sessions of an export and typed calls into them.

    Sessions are thread-safe for :meth:`run`-style calls and shared by every generator that
    serves the same export with the same providers (see :func:`_load`).

    Args:
        export_dir: directory written by :func:`~worldbridge.models.onnx_export.export_onnx`.
        providers: provider names (default :func:`select_providers`).
        intra_op_threads: threads per session (default ``$WORLDBRIDGE_ORT_THREADS`` or 0,
            ONNX Runtime's own choice: one per physical core).
        device_id: CUDA device for the CUDA / TensorRT providers.

    Attributes:
        manifest: the export's ``onnx_manifest.json``.
        providers: the providers the denoiser session actually runs with.
        device: ``"cuda"`` when a GPU provider is active, else ``"cpu"``: where the
            reference keys/values are kept between calls.

    Raises:
        ImportError: ``onnxruntime`` is not installed.
        FileNotFoundError / ValueError: no (or a bad) manifest or graph file, an unavailable
            provider, or a bad thread count.
    """

    def __init__(self, export_dir: str | os.PathLike, providers: Sequence[str] | None = None,
                 intra_op_threads: int | None = None, device_id: int = 0):
        try:
            import onnxruntime as ort
        except ImportError:
            raise ImportError("the frame-model-onnx generator needs onnxruntime "
                              "(pip install onnxruntime, or onnxruntime-gpu for CUDA/TensorRT)") from None
        from worldbridge.models.onnx_export import load_manifest

        self._ort = ort
        self.export_dir = Path(export_dir)
        self.manifest = load_manifest(self.export_dir)
        if int(self.manifest["batch"]) != 1:
            raise ValueError(f"{self.export_dir} was exported with batch {self.manifest['batch']}; "
                             "the generator needs batch 1 (worldbridge export-onnx --batch 1)")
        names = select_providers(ort.get_available_providers(), providers)
        threads = _threads(intra_op_threads)
        self.device_id = int(device_id)
        self.sessions = {key: self._session(graph["file"], names, threads)
                         for key, graph in self.manifest["graphs"].items()}
        self.providers = self.sessions["denoiser"].get_providers()
        self.device = "cuda" if self.providers[0] in _GPU_PROVIDERS else "cpu"

    def _session(self, fname: str, names: list[str], threads: int):
        ort = self._ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        path = str(self.export_dir / fname)
        while True:
            try:
                return ort.InferenceSession(
                    path, sess_options=opts,
                    providers=[_provider_options(n, self.export_dir, self.device_id) for n in names])
            except Exception as e:  # a GPU provider whose libraries are missing or broken
                if names[0] not in _GPU_PROVIDERS:
                    raise
                log.warning("ONNX Runtime provider %s failed for %s (%s); trying %s",
                            names[0], fname, e, names[1:])
                names = names[1:]

    # ---------------------------------------------------------------- calls
    def _run(self, key: str, inputs: dict[str, Any], keep_on_device: bool = False) -> list[Any]:
        """Run a graph through I/O binding: numpy inputs are copied in, OrtValues used as
        they are; outputs come back as numpy (or as OrtValues on :attr:`device`)."""
        sess = self.sessions[key]
        binding = sess.io_binding()
        for name, value in inputs.items():
            if isinstance(value, self._ort.OrtValue):
                binding.bind_ortvalue_input(name, value)
            else:
                binding.bind_cpu_input(name, np.ascontiguousarray(value, dtype=np.float32))
        outs = [o["name"] for o in self.manifest["graphs"][key]["outputs"]]
        for name in outs:
            binding.bind_output(name, self.device if keep_on_device else "cpu",
                                self.device_id if keep_on_device else 0)
        sess.run_with_iobinding(binding)
        return binding.get_outputs() if keep_on_device else binding.copy_outputs_to_cpu()

    def encode(self, images: np.ndarray) -> np.ndarray:
        """``[1, 3, H, W]`` float32 in ``[-1, 1]`` -> ``[1, C, h, w]`` float32 scaled latents."""
        return self._run("encoder", {"images": images})[0]

    def decode(self, latents: np.ndarray) -> np.ndarray:
        """``[1, C, h, w]`` float32 scaled latents -> ``[1, 3, H, W]`` float32 (not clamped)."""
        return self._run("decoder", {"latents": latents})[0]

    def reference_cache(self, reference: np.ndarray, reference_w2c: np.ndarray,
                        reference_K: np.ndarray, timestep: float) -> tuple[Any, Any]:
        """Per-layer reference keys and values at one timestep, kept on :attr:`device`.

        Args:
            reference: ``[1, C, h, w]`` float32 reference latent.
            reference_w2c: ``[1, 4, 4]`` float32 OpenCV world-to-camera, metres.
            reference_K: ``[1, 3, 3]`` float32 intrinsics in pixels of an ``image_size`` image.
            timestep: the sampler timestep.

        Returns:
            ``(keys, values)`` OrtValues, each ``[depth, 1, heads, N, head_dim]`` float32.
        """
        keys, values = self._run("reference_cache", {
            "reference": reference, "reference_w2c": reference_w2c, "reference_K": reference_K,
            "timestep": np.array([timestep], np.float32)}, keep_on_device=True)
        return keys, values

    def denoise(self, x_t: np.ndarray, timestep: float, anchor: np.ndarray, target_w2c: np.ndarray,
                target_K: np.ndarray, cache: tuple[Any, Any]) -> np.ndarray:
        """One cached denoiser call: ``[1, C, h, w]`` float32 epsilon.

        Args:
            x_t, anchor: ``[1, C, h, w]`` float32 latents.
            timestep: the timestep ``cache`` was computed at.
            target_w2c: ``[1, 4, 4]``, target_K: ``[1, 3, 3]`` float32.
            cache: from :meth:`reference_cache` at ``timestep``.
        """
        return self._run("denoiser", {
            "x_t": x_t, "timestep": np.array([timestep], np.float32), "anchor": anchor,
            "target_w2c": target_w2c, "target_K": target_K,
            "reference_keys": cache[0], "reference_values": cache[1]})[0]


_LOCK = threading.Lock()


@lru_cache(maxsize=4)
def _load(path: str, providers: tuple[str, ...] | None, threads: int | None) -> OnnxFrameModel:
    return OnnxFrameModel(path, providers, threads)


class FrameModelOnnxGenerator:
    """Serves an ONNX export of a frame-model bundle with ONNX Runtime.

    Produces the same frames as :class:`~worldbridge.generators.frame_model.FrameModelGenerator`
    on the CPU up to float32 rounding (the tests allow 2 levels of 255).

    Args:
        export_dir: the export directory (default :func:`default_onnx_path`).
        providers: ONNX Runtime providers (default :func:`select_providers`: TensorRT, CUDA
            if available, CPU).
        intra_op_threads: threads per session (default ``$WORLDBRIDGE_ORT_THREADS`` or 0 =
            ONNX Runtime's default).

    Raises:
        ImportError: ``onnxruntime`` is not installed.
        FileNotFoundError / ValueError: a missing or bad export, or an unavailable provider.
    """

    name = "frame-model-onnx"
    description = ("distilled 2-step frame model (DiT + PRoPE) run by ONNX Runtime "
                   "(TensorRT / CUDA / CPU providers)")

    def __init__(self, export_dir: str | os.PathLike | None = None,
                 providers: Sequence[str] | None = None, intra_op_threads: int | None = None):
        from worldbridge.models.samplers import DistilledSampler
        from worldbridge.models.schedule import NoiseSchedule, ScheduleConfig

        with _LOCK:
            self.model = _load(str(export_dir or default_onnx_path()),
                               tuple(providers) if providers is not None else None, intra_op_threads)
        m = self.model.manifest
        self.size = int(m["image_size"])
        self.timesteps = [int(t) for t in m["sampler_timesteps"]]
        self.sampler = DistilledSampler(NoiseSchedule(ScheduleConfig(**m["schedule"])), self.timesteps)
        self._ref_rgb: np.ndarray | None = None
        self._ref_caches: dict[int, tuple[Any, Any]] = {}

    @property
    def providers(self) -> list[str]:
        """The ONNX Runtime providers in use, best first."""
        return list(self.model.providers)

    def _reference_caches(self, ctx: GenerationContext) -> dict[int, tuple[Any, Any]]:
        # Keyed by the reference array object (kept alive here, so its identity is stable).
        if ctx.reference_rgb is not self._ref_rgb:
            ref = self.model.encode(_to_tensor(ctx.reference_rgb, self.size, "cpu").numpy())
            w2c = invert_rigid(ctx.reference_c2w).astype(np.float32)[None]
            k = _k_matrix(ctx.reference_intrinsics, self.size, "cpu").numpy()
            self._ref_caches = {t: self.model.reference_cache(ref, w2c, k, float(t))
                                for t in self.timesteps}
            self._ref_rgb = ctx.reference_rgb
        return self._ref_caches

    def generate(self, ctx: GenerationContext) -> np.ndarray:
        """See :class:`~worldbridge.generators.base.FrameGenerator`; ``[H, W, 3]`` uint8.

        Raises:
            ValueError: a context with malformed images or poses (from the conversions).
        """
        caches = self._reference_caches(ctx)
        anchor = self.model.encode(_to_tensor(ctx.anchor_rgb, self.size, "cpu").numpy())
        w2c = invert_rigid(ctx.target_c2w).astype(np.float32)[None]
        k = _k_matrix(ctx.target_intrinsics, self.size, "cpu").numpy()

        def denoise(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            ti = int(t[0])
            return torch.from_numpy(self.model.denoise(x.numpy(), float(ti), anchor, w2c, k, caches[ti]))

        with torch.inference_mode():
            x0 = self.sampler.sample(denoise, tuple(anchor.shape), [ctx.seed], device="cpu")
            img = torch.from_numpy(self.model.decode(x0.numpy()))
            rgb = ((img[0].clamp(-1, 1) + 1) * 127.5).round().byte().permute(1, 2, 0).numpy()
        h, w = ctx.anchor_rgb.shape[:2]
        return cv2.resize(rgb, (w, h), interpolation=cv2.INTER_CUBIC) if (h, w) != rgb.shape[:2] else rgb
