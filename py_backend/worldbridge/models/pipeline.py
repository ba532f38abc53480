"""The one inference pipeline of the frame model, for every backend and every caller.

Both generators (``frame-model`` on PyTorch, ``frame-model-onnx`` on ONNX Runtime),
``worldbridge eval`` and the benchmarks call :meth:`FramePipeline.generate`; nothing else
holds a copy of the loop. Per frame (InSpatio-WorldFM, arXiv 2603.11911, sections 2.2 and
2.5):

1. **Framing.** The W x H frame is centred in a square (padded, never squashed,
   :class:`~worldbridge.geometry.framing.SquareFit`) and resized to the model's S x S; the
   intrinsics follow exactly.
2. **Anchor.** The anchor render at the frame's size is brought to S x S by the one anchor
   builder (:mod:`worldbridge.memory.anchors`: coverage-normalised area averaging, the
   model's hole value) and encoded; models with ``anchor_mask_channel`` also get its
   coverage per latent pixel.
3. **Reference.** The nearest view (:func:`~worldbridge.geometry.views.pose_distance`)
   among the session's reference views and keyframes is the reference; its latent and
   per-layer keys/values (one set per sampler timestep) are computed when it is first
   chosen and kept in a small LRU keyed by its ``view_id``.
4. **Cameras.** World-to-camera poses are normalised as the model was trained
   (``pose_normalization``, :func:`~worldbridge.models.conditioning.normalize_cameras`,
   with the reference view's scene scale).
5. **Sampling.** Noise seeded from the frame's seed (the pose: a still camera gives a still
   frame), then the sampler: the distilled 2-step sampler of the bundle, or DDIM with any
   number of steps for a teacher.
6. **Output.** The decoded S x S image is resized back onto the frame, and with anchor lock
   (the default) pasted under the anchors: covered pixels pass through exactly, the model
   fills the holes, the seam is feathered on the hole side
   (:func:`~worldbridge.render.holes.composite_anchor_locked`).

Backends (:class:`TorchBackend` here, :class:`~worldbridge.models.onnx_backend.
OnnxBackend`) only run the four networks: encode, decode, reference keys/values, and one
cached denoiser step.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np
import torch

from worldbridge.geometry.framing import SquareFit
from worldbridge.geometry.views import Camera, ReferenceView, pose_distance
from worldbridge.memory.anchors import anchor_model_image, apply_hole_value
from worldbridge.models.conditioning import latent_coverage, normalize_cameras
from worldbridge.models.config import FrameModelConfig
from worldbridge.models.samplers import DDIMSampler, DistilledSampler, seeded_noise
from worldbridge.models.schedule import NoiseSchedule
from worldbridge.render.holes import composite_anchor_locked

__all__ = ["Backend", "FrameConditions", "FramePipeline", "PipelineOptions", "TorchBackend",
           "PRECISIONS"]

PRECISIONS = ("auto", "fp32", "bf16")
"""``auto``: bf16 autocast on CUDA, float32 elsewhere; ``fp32``; ``bf16`` (autocast on any
device)."""


@dataclass(frozen=True)
class PipelineOptions:
    """How the pipeline serves frames.

    Attributes:
        anchor_lock: keep every covered anchor pixel exactly and let the model fill only the
            holes (default); False regenerates every pixel (restyling).
        feather_px: width of the anchor-lock seam inside the holes, output pixels.
        max_cached_references: reference views whose keys/values are kept (LRU).
    """

    anchor_lock: bool = True
    feather_px: float = 2.0
    max_cached_references: int = 4

    def __post_init__(self) -> None:
        if not isinstance(self.anchor_lock, bool):
            raise ValueError(f"anchor_lock must be a bool, got {self.anchor_lock!r}")
        if not (isinstance(self.feather_px, (int, float)) and 0 <= self.feather_px < 64):
            raise ValueError(f"feather_px must be a number in [0, 64), got {self.feather_px!r}")
        m = self.max_cached_references
        if isinstance(m, bool) or not isinstance(m, int) or m < 1:
            raise ValueError(f"max_cached_references must be an int >= 1, got {m!r}")


@dataclass
class FrameConditions:
    """One target view's conditions, on the backend's device.

    Attributes:
        anchor: ``[1, C, h, w]`` anchor latent.
        anchor_mask: ``[1, 1, h, w]`` float32 coverage, or None for models without it.
        w2c: ``[1, 4, 4]`` float32 normalised world-to-camera of the target.
        K: ``[1, 3, 3]`` float32 intrinsics of the S x S image, pixels.
    """

    anchor: Any
    anchor_mask: Any
    w2c: Any
    K: Any


class Backend(Protocol):
    """Runs the networks of a frame model. Tensors are torch tensors on :attr:`device`
    (the ONNX backend converts at its boundary)."""

    device: torch.device

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """``[B, 3, S, S]`` float32 in [-1, 1] -> ``[B, C, h, w]`` scaled latents."""

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """``[B, C, h, w]`` latents -> ``[B, 3, S, S]`` float32 (not clamped)."""

    def reference_cache(self, reference: torch.Tensor, w2c: torch.Tensor, K: torch.Tensor,
                        timestep: int) -> Any:
        """Keys/values of a reference latent ``[1, C, h, w]`` (camera ``[1, 4, 4]``,
        ``[1, 3, 3]``) at one timestep; an opaque object for :meth:`denoise`."""

    def denoise(self, x_t: torch.Tensor, timestep: int, cond: FrameConditions, cache: Any
                ) -> torch.Tensor:
        """One cached denoiser call: ``[1, C, h, w]`` float32 epsilon."""


def _precision(precision: str, device: torch.device) -> torch.dtype | None:
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    if precision == "bf16" or (precision == "auto" and device.type == "cuda"):
        return torch.bfloat16
    return None


class _CudaGraph:
    """A function of tensors captured once in a CUDA graph and replayed.

    Inputs are copied into static buffers before each replay and the static output is
    cloned after it (PyTorch's CUDA graph recipe: warm up on a side stream, capture, replay;
    https://pytorch.org/docs/stable/notes/cuda.html#cuda-graphs). A new graph is captured
    for each new combination of input shapes and dtypes.
    """

    def __init__(self, fn):
        self.fn = fn
        self.graphs: dict[tuple, tuple[Any, list[torch.Tensor], torch.Tensor]] = {}

    def __call__(self, *args: torch.Tensor) -> torch.Tensor:
        key = tuple((tuple(a.shape), a.dtype) for a in args)
        entry = self.graphs.get(key)
        if entry is None:
            static = [a.clone() for a in args]
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(3):
                    self.fn(*static)
            torch.cuda.current_stream().wait_stream(side)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                out = self.fn(*static)
            entry = (graph, static, out)
            self.graphs[key] = entry
        graph, static, out = entry
        for s, a in zip(static, args):
            s.copy_(a)
        graph.replay()
        return out.clone()


class TorchBackend:
    """The frame model and its autoencoder on PyTorch.

    Args:
        model: a :class:`~worldbridge.models.dit.FrameModel` (eval mode) with
            ``reference_self_attention_only``.
        autoencoder: its :class:`~worldbridge.models.autoencoder.Autoencoder`.
        device: where both run (default: the model's device).
        precision: one of :data:`PRECISIONS`.
        cuda_graphs: capture the denoiser step, the encoder and the decoder in CUDA graphs
            (CUDA only; a static-shape replay removes the per-kernel launch overhead that
            dominates a 2-step frame at small batch).

    Raises:
        ValueError: a model without reference self-attention isolation, a bad precision,
            or CUDA graphs on a non-CUDA device.
    """

    def __init__(self, model: Any, autoencoder: Any, device: Any = None, precision: str = "auto",
                 cuda_graphs: bool = False):
        if not model.config.reference_self_attention_only:
            raise ValueError("the pipeline caches the reference view's keys/values and needs a "
                             "model with reference_self_attention_only=True")
        self.device = torch.device(device) if device is not None else next(model.parameters()).device
        self.model = model.to(self.device).eval().requires_grad_(False)
        self.autoencoder = autoencoder.to(self.device) if hasattr(autoencoder, "to") else autoencoder
        self.autocast_dtype = _precision(precision, self.device)
        self.precision = precision
        if cuda_graphs and self.device.type != "cuda":
            raise ValueError(f"CUDA graphs need a CUDA device, got {self.device}")
        self.cuda_graphs = bool(cuda_graphs)
        self._graphs: dict[str, _CudaGraph] = {}

    def _autocast(self):
        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.autocast_dtype)

    def _run(self, name: str, fn, *args: torch.Tensor) -> torch.Tensor:
        if not self.cuda_graphs:
            return fn(*args)
        if name not in self._graphs:
            self._graphs[name] = _CudaGraph(fn)
        return self._graphs[name](*args)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(), self._autocast():
            return self._run("encode", self.autoencoder.encode, images.to(self.device))

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode(), self._autocast():
            return self._run("decode", self.autoencoder.decode, latents).float()

    def reference_cache(self, reference: torch.Tensor, w2c: torch.Tensor, K: torch.Tensor,
                        timestep: int) -> Any:
        with torch.inference_mode(), self._autocast():
            t = torch.tensor([timestep], device=self.device)
            return self.model.compute_reference_cache(reference, w2c.to(self.device),
                                                      K.to(self.device), t)

    def denoise(self, x_t: torch.Tensor, timestep: int, cond: FrameConditions, cache: Any
                ) -> torch.Tensor:
        cfg = self.model.config
        with torch.inference_mode(), self._autocast():
            t = torch.full((x_t.shape[0],), float(timestep), device=self.device)
            x = x_t.to(self.device)
            if not self.cuda_graphs:
                eps = self.model.denoise_cached(x, t, cond.anchor, cond.anchor_mask, cond.w2c,
                                                cond.K, cache.keys, cache.values)
            else:
                depth = cfg.depth
                mask = () if cond.anchor_mask is None else (cond.anchor_mask,)

                def step(x, t, anchor, w2c, K, *rest):
                    m = rest[0] if mask else None
                    kv = rest[len(mask):]
                    return self.model.denoise_cached(x, t, anchor, m, w2c, K, kv[:depth], kv[depth:])

                eps = self._run("denoise", step, x, t, cond.anchor, cond.w2c, cond.K, *mask,
                                *cache.keys, *cache.values)
        return eps[:, :cfg.latent_channels].float()


class FramePipeline:
    """Generates frames of a scene from its anchors and reference views.

    Not thread-safe: one pipeline per session (it holds that session's reference caches);
    the backend (and its weights) may be shared.

    Args:
        backend: a :class:`Backend`.
        config: the model's config (image size, latent shape, conditioning).
        schedule: the noise schedule it was trained with.
        sampler: a :class:`~worldbridge.models.samplers.DistilledSampler` (served models)
            or :class:`~worldbridge.models.samplers.DDIMSampler` (teachers).
        options: :class:`PipelineOptions`.

    Raises:
        TypeError: another kind of sampler.
    """

    def __init__(self, backend: Backend, config: FrameModelConfig, schedule: NoiseSchedule,
                 sampler: DistilledSampler | DDIMSampler, options: PipelineOptions | None = None):
        if not isinstance(sampler, (DistilledSampler, DDIMSampler)):
            raise TypeError(f"sampler must be a DistilledSampler or DDIMSampler, got "
                            f"{type(sampler).__name__}")
        self.backend = backend
        self.config = config
        self.schedule = schedule
        self.sampler = sampler
        self.options = options or PipelineOptions()
        self.timesteps = [int(t) for t in sampler.timesteps]
        self._references: OrderedDict[int, dict[int, Any]] = OrderedDict()
        self.reference_builds = 0
        """How many times a reference's keys/values were computed (for tests and stats)."""

    @classmethod
    def from_model(cls, model: Any, autoencoder: Any, schedule: NoiseSchedule,
                   sampler: DistilledSampler | DDIMSampler, *, device: Any = None,
                   precision: str = "auto", cuda_graphs: bool = False,
                   options: PipelineOptions | None = None) -> FramePipeline:
        """A pipeline on a :class:`TorchBackend` (see its arguments)."""
        backend = TorchBackend(model, autoencoder, device, precision, cuda_graphs)
        return cls(backend, model.config, schedule, sampler, options)

    @property
    def image_size(self) -> int:
        """S, the model's image side, pixels."""
        return self.config.image_size

    # ------------------------------------------------------------------ reference views
    def choose_reference(self, target: Camera, references: Sequence[ReferenceView]
                         ) -> ReferenceView:
        """The reference view nearest to ``target`` (:func:`pose_distance`, with the median
        scene scale of the references); ties go to the earlier view.

        Raises:
            ValueError: no reference view.
        """
        if not references:
            raise ValueError("the frame model needs at least one reference view")
        scale = float(np.median([r.scale for r in references]))
        dists = [pose_distance(target, r.camera, scale) for r in references]
        return references[int(np.argmin(dists))]

    def _reference_state(self, ref: ReferenceView) -> dict[int, Any]:
        state = self._references.get(ref.view_id)
        if state is not None:
            self._references.move_to_end(ref.view_id)
            return state
        k = ref.camera.intrinsics
        fit = SquareFit.of(k.width, k.height, self.image_size, "pad")
        rgb = fit.to_square(ref.rgb, cv2.INTER_AREA, fill=128)
        latent = self.backend.encode(_unit_tensor(rgb[None]).to(self.backend.device))
        w2c = normalize_cameras(torch.tensor(ref.camera.w2c, dtype=torch.float32)[None], ref.scale,
                                self.config.pose_normalization)
        kk = torch.from_numpy(fit.intrinsics(k).K).float()[None]
        state = {t: self.backend.reference_cache(latent, w2c, kk, t) for t in self.timesteps}
        self._references[ref.view_id] = state
        self.reference_builds += 1
        while len(self._references) > self.options.max_cached_references:
            self._references.popitem(last=False)
        return state

    # ------------------------------------------------------------------ frames
    def conditions(self, anchor_rgb: np.ndarray, anchor_mask: np.ndarray, target: Camera,
                   scale: float) -> tuple[FrameConditions, SquareFit]:
        """Encode one target view's anchor and normalise its camera.

        Args:
            anchor_rgb: ``[H, W, 3]`` uint8 anchor render at the target's size.
            anchor_mask: ``[H, W]`` bool coverage.
            target: the target camera (intrinsics of size ``W x H``).
            scale: the reference view's scene scale, metres.

        Returns:
            ``(conditions, framing)``.

        Raises:
            ValueError: images that do not match the target's size.
        """
        k = target.intrinsics
        if anchor_rgb.shape != (k.height, k.width, 3) or anchor_mask.shape != (k.height, k.width):
            raise ValueError(f"anchor {list(anchor_rgb.shape)} / mask {list(anchor_mask.shape)} "
                             f"do not match the target camera's {k.width}x{k.height}")
        cfg, dev = self.config, self.backend.device
        fit = SquareFit.of(k.width, k.height, self.image_size, "pad")
        img, cov = anchor_model_image(fit.window(anchor_rgb, 0), fit.window(anchor_mask, False),
                                      self.image_size)
        images = torch.from_numpy(img).permute(2, 0, 1)[None].div(127.5).sub(1.0)
        coverage = torch.from_numpy(cov)[None, None]
        images = apply_hole_value(images, coverage, cfg.anchor_hole_value)
        anchor = self.backend.encode(images.to(dev))
        mask = latent_coverage(coverage, cfg.latent_size).to(dev) if cfg.anchor_mask_channel \
            else None
        w2c = normalize_cameras(torch.tensor(target.w2c, dtype=torch.float32)[None], scale,
                                cfg.pose_normalization).to(dev)
        kk = torch.from_numpy(fit.intrinsics(k).K).float()[None].to(dev)
        return FrameConditions(anchor, mask, w2c, kk), fit

    def sample(self, cond: FrameConditions, caches: dict[int, Any], seed: int) -> torch.Tensor:
        """Run the sampler from noise seeded with ``seed``: ``[1, C, h, w]`` x0."""
        dev = self.backend.device

        def denoise(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            return self.backend.denoise(x, int(t[0]), cond, caches[int(t[0])])

        c, h = self.config.latent_channels, self.config.latent_size
        shape = (1, c, h, h)
        with torch.inference_mode():
            if isinstance(self.sampler, DistilledSampler):
                return self.sampler.sample(denoise, shape, [seed], device=dev)
            return self.sampler.sample(denoise, seeded_noise(shape, [seed], dev))

    def model_frame(self, anchor_rgb: np.ndarray, anchor_mask: np.ndarray, target: Camera,
                    references: Sequence[ReferenceView], seed: int) -> np.ndarray:
        """The model's whole frame at the target's size, before compositing.

        Args: as :meth:`generate`.

        Returns:
            ``[H, W, 3]`` float32 RGB in [0, 255] (not rounded).

        Raises:
            ValueError: mismatched images, no reference view.
        """
        ref = self.choose_reference(target, references)
        cond, fit = self.conditions(anchor_rgb, anchor_mask, target, ref.scale)
        x0 = self.sample(cond, self._reference_state(ref), seed)
        img = self.backend.decode(x0)
        square = ((img[0].clamp(-1, 1) + 1) * 127.5).permute(1, 2, 0).cpu().numpy()
        return fit.from_square(np.ascontiguousarray(square, dtype=np.float32))

    def composite(self, frame: np.ndarray, anchor_rgb: np.ndarray, anchor_mask: np.ndarray,
                  anchor_lock: bool | None = None) -> np.ndarray:
        """The served frame from :meth:`model_frame`'s output.

        Args:
            frame: ``[H, W, 3]`` float32 model frame in [0, 255].
            anchor_rgb, anchor_mask: the anchor render and its coverage.
            anchor_lock: override :attr:`PipelineOptions.anchor_lock`.

        Returns:
            ``[H, W, 3]`` uint8: with anchor lock, ``anchor_rgb`` exactly where covered and
            the feathered model frame in the holes; without, the rounded model frame.
        """
        lock = self.options.anchor_lock if anchor_lock is None else anchor_lock
        if lock:
            return composite_anchor_locked(anchor_rgb, anchor_mask, frame, self.options.feather_px)
        return np.clip(np.rint(frame), 0, 255).astype(np.uint8)

    def generate(self, anchor_rgb: np.ndarray, anchor_mask: np.ndarray, target: Camera,
                 references: Sequence[ReferenceView], seed: int,
                 anchor_lock: bool | None = None) -> np.ndarray:
        """One served frame at the target camera's size.

        Args:
            anchor_rgb: ``[H, W, 3]`` uint8 anchor render at the target pose (any value on
                holes).
            anchor_mask: ``[H, W]`` bool, True where anchor points landed.
            target: the target camera, OpenCV c2w in metres, intrinsics of size ``W x H``.
            references: the session's reference views and keyframes (at least one).
            seed: the frame's noise seed (:func:`~worldbridge.generators.base.pose_seed`).
            anchor_lock: override :attr:`PipelineOptions.anchor_lock` for this frame.

        Returns:
            ``[H, W, 3]`` uint8 RGB, top row first; with anchor lock equal to
            ``anchor_rgb`` wherever ``anchor_mask`` is True (a fully covered frame is the
            anchor render, and the model does not run).

        Raises:
            ValueError: mismatched images, no reference view.
        """
        lock = self.options.anchor_lock if anchor_lock is None else anchor_lock
        if lock and anchor_mask.shape == anchor_rgb.shape[:2] and anchor_mask.all():
            return anchor_rgb.copy()  # nothing to fill: the model would be pasted over anyway
        frame = self.model_frame(anchor_rgb, anchor_mask, target, references, seed)
        return self.composite(frame, anchor_rgb, anchor_mask, lock)


def _unit_tensor(rgb: np.ndarray) -> torch.Tensor:
    """``[B, S, S, 3]`` uint8 -> ``[B, 3, S, S]`` float32 in [-1, 1]."""
    return torch.from_numpy(np.ascontiguousarray(rgb)).permute(0, 3, 1, 2).float().div(127.5).sub(1.0)
