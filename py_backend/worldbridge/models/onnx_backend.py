"""ONNX Runtime backend of the inference pipeline (``frame-model-onnx``).

Runs the four graphs :func:`worldbridge.models.onnx_export.export_onnx` writes (encoder,
decoder, reference keys/values, one cached denoiser step) behind the
:class:`~worldbridge.models.pipeline.Backend` interface, so the ONNX generator goes
through exactly the same :class:`~worldbridge.models.pipeline.FramePipeline` as the
PyTorch one: same framing, anchor preparation, hole value, reference choice, pose
normalisation, noise, sampler and compositing.

Execution providers: TensorRT, then CUDA, when ``onnxruntime.get_available_providers()``
lists them (the ``onnxruntime-gpu`` wheel), always with the CPU provider last; a
TensorRT/CUDA provider that fails to start falls back to the next. The reference keys and
values stay on the execution device between calls (I/O binding). Sources: ONNX Runtime's
execution providers and I/O binding (https://onnxruntime.ai/docs/execution-providers/,
https://onnxruntime.ai/docs/api/python/api_summary.html#iobinding).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from worldbridge.models.pipeline import FrameConditions

__all__ = [
    "ENV_ORT_PROVIDERS",
    "ENV_ORT_THREADS",
    "OnnxBackend",
    "OnnxFrameModel",
    "PROVIDER_PREFERENCE",
    "select_providers",
]

log = logging.getLogger(__name__)

ENV_ORT_PROVIDERS = "WORLDBRIDGE_ORT_PROVIDERS"
"""Comma-separated ONNX Runtime providers to use instead of the automatic choice."""

ENV_ORT_THREADS = "WORLDBRIDGE_ORT_THREADS"
"""Intra-op threads of every ONNX Runtime session (default: ONNX Runtime's, 0)."""

PROVIDER_PREFERENCE = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider")
_GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider")


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
        self.has_anchor_mask = any(i["name"] == "anchor_mask"
                                   for i in self.manifest["graphs"]["denoiser"]["inputs"])

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

    def denoise(self, x_t: np.ndarray, timestep: float, anchor: np.ndarray,
                anchor_mask: np.ndarray | None, target_w2c: np.ndarray, target_K: np.ndarray,
                cache: tuple[Any, Any]) -> np.ndarray:
        """One cached denoiser call: ``[1, C, h, w]`` float32 epsilon.

        Args:
            x_t, anchor: ``[1, C, h, w]`` float32 latents.
            anchor_mask: ``[1, 1, h, w]`` float32 coverage for graphs exported with the
                ``anchor_mask`` input (models with ``anchor_mask_channel``), else None.
            timestep: the timestep ``cache`` was computed at.
            target_w2c: ``[1, 4, 4]``, target_K: ``[1, 3, 3]`` float32.
            cache: from :meth:`reference_cache` at ``timestep``.

        Raises:
            ValueError: ``anchor_mask`` given to a graph without that input, or missing.
        """
        inputs = {"x_t": x_t, "timestep": np.array([timestep], np.float32), "anchor": anchor,
                  "target_w2c": target_w2c, "target_K": target_K,
                  "reference_keys": cache[0], "reference_values": cache[1]}
        if (anchor_mask is not None) != self.has_anchor_mask:
            raise ValueError(f"the denoiser graph {'takes' if self.has_anchor_mask else 'has no'} "
                             "an anchor_mask input")
        if anchor_mask is not None:
            inputs["anchor_mask"] = anchor_mask
        return self._run("denoiser", inputs)[0]


class OnnxBackend:
    """:class:`~worldbridge.models.pipeline.Backend` on an :class:`OnnxFrameModel`.

    Tensors cross the boundary as float32 CPU arrays; the reference keys/values stay on
    the execution device.

    Args:
        model: the loaded export (sessions may be shared by several backends).
    """

    def __init__(self, model: OnnxFrameModel):
        self.model = model
        self.device = torch.device("cpu")

    @staticmethod
    def _np(x: torch.Tensor) -> np.ndarray:
        return np.ascontiguousarray(x.detach().cpu().numpy(), dtype=np.float32)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.model.encode(self._np(images)))

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.model.decode(self._np(latents)))

    def reference_cache(self, reference: torch.Tensor, w2c: torch.Tensor, K: torch.Tensor,
                        timestep: int) -> Any:
        return self.model.reference_cache(self._np(reference), self._np(w2c), self._np(K),
                                          float(timestep))

    def denoise(self, x_t: torch.Tensor, timestep: int, cond: FrameConditions, cache: Any
                ) -> torch.Tensor:
        mask = None if cond.anchor_mask is None else self._np(cond.anchor_mask)
        return torch.from_numpy(self.model.denoise(
            self._np(x_t), float(timestep), self._np(cond.anchor), mask, self._np(cond.w2c),
            self._np(cond.K), cache))
