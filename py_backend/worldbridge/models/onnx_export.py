"""Export a frame-model bundle to ONNX for ONNX Runtime serving (``worldbridge export-onnx``).

Four graphs are written, all float32 with static shapes (TensorRT and ONNX Runtime plan
their memory once):

``denoiser.onnx``
    One *cached* denoiser step, :meth:`FrameModel.denoise_cached`: the target and anchor
    tokens attend to themselves and to the reference view's per-layer keys and values,
    which come in as two stacked tensors. Inputs ``x_t [B, C, h, w]``, ``timestep [B]``
    float32, ``anchor [B, C, h, w]``, ``anchor_mask [B, 1, h, w]`` (only for models with
    ``anchor_mask_channel``), ``target_w2c [B, 4, 4]`` (normalised as the model's
    ``pose_normalization`` prescribes; the pipeline does it before the call),
    ``target_K [B, 3, 3]``, ``reference_keys`` / ``reference_values``
    ``[depth, 1, heads, N, head_dim]``; output ``eps [B, C, h, w]`` (the epsilon channels
    only, also for ``learn_sigma`` models).
``reference_cache.onnx``
    :meth:`FrameModel.compute_reference_cache`: ``reference [1, C, h, w]``,
    ``reference_w2c [1, 4, 4]``, ``reference_K [1, 3, 3]``, ``timestep [1]`` float32 ->
    ``reference_keys``, ``reference_values`` ``[depth, 1, heads, N, head_dim]`` (PRoPE
    applied). Run once per keyframe and sampler timestep.
``encoder.onnx`` / ``decoder.onnx``
    The autoencoder: ``images [B, 3, H, W]`` in ``[-1, 1]`` -> ``latents [B, C, h, w]``
    (scaled, the posterior mean) and back.

``onnx_manifest.json`` beside them names the files, their inputs and outputs (names, shapes,
dtypes), the sampler timesteps, the schedule config, the image and latent sizes, the model
config and the export's own parity check against PyTorch.

The graphs are traced with the TorchScript exporter (``torch.onnx.export(dynamo=False)``);
the dynamo exporter needs the ``onnxscript`` package. The denoiser graph traces
:meth:`FrameModel.denoise_cached`, the check-free hot path (no host reads of tensor
values), so nothing data-dependent is frozen into the graph. PRoPE's projective products trace
to ``Einsum``; its RoPE tables and the sin-cos position embeddings are constants in the graph.

Sources: InSpatio-WorldFM (arXiv 2603.11911) section 2.5 (the 2-step distilled sampler these graphs
serve); ONNX Runtime's execution providers and I/O binding
(https://onnxruntime.ai/docs/api/python/api_summary.html).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import torch
from torch import nn

from worldbridge.atomic_io import atomic_path, atomic_write_text
from worldbridge.errors import WorldBridgeError
from worldbridge.models.config import LEGACY_CONDITIONING
from worldbridge.models.dit import FrameModel

__all__ = [
    "DECODER_FILE",
    "DENOISER_FILE",
    "ENCODER_FILE",
    "MANIFEST_FILE",
    "MANIFEST_FORMAT",
    "REFERENCE_CACHE_FILE",
    "DecoderGraph",
    "DenoiserStep",
    "EncoderGraph",
    "OnnxExportError",
    "ReferenceCacheGraph",
    "export_onnx",
    "export_onnx_main",
    "load_manifest",
]

MANIFEST_FILE = "onnx_manifest.json"
"""Name of the manifest written beside the ``.onnx`` files."""

MANIFEST_FORMAT = "worldbridge-frame-model-onnx"
"""The manifest's ``format`` field (with ``format_version`` 1)."""

FORMAT_VERSION = 2
"""Format 2 records the model's conditioning in ``model_config`` and may add the
``anchor_mask`` input; format-1 manifests are read with the legacy conditioning
(:data:`~worldbridge.models.config.LEGACY_CONDITIONING`)."""

DENOISER_FILE = "denoiser.onnx"
REFERENCE_CACHE_FILE = "reference_cache.onnx"
ENCODER_FILE = "encoder.onnx"
DECODER_FILE = "decoder.onnx"

DEFAULT_OPSET = 17
"""ONNX opset of the export (ONNX Runtime >= 1.14, TensorRT >= 8.6 read it)."""


class OnnxExportError(WorldBridgeError, RuntimeError):
    """The export failed its own check: a graph disagrees with PyTorch or is malformed."""


# --------------------------------------------------------------------------- graphs
class DenoiserStep(nn.Module):
    """One cached denoiser call, as exported to ``denoiser.onnx``.

    Wraps :meth:`FrameModel.denoise_cached` with the stacked reference keys and values, so
    the graph holds only the target and anchor tokens' computation.

    Args:
        model: the frame model; needs ``reference_self_attention_only``.

    Raises:
        ValueError: the model cannot use a reference cache.
    """

    def __init__(self, model: FrameModel):
        super().__init__()
        if not model.config.reference_self_attention_only:
            raise ValueError("ONNX export serves the cached denoiser and needs a model with "
                             "reference_self_attention_only=True")
        self.model = model

    def forward(self, x_t: torch.Tensor, timestep: torch.Tensor, anchor: torch.Tensor,
                *rest: torch.Tensor) -> torch.Tensor:
        """Predict epsilon.

        Args:
            x_t: ``[B, C, h, w]`` float32 noisy target latent.
            timestep: ``[B]`` float32 timesteps in ``[0, 1000)`` (the cache's timestep).
            anchor: ``[B, C, h, w]`` float32 anchor latent.
            rest: ``anchor_mask [B, 1, h, w]`` first for models with ``anchor_mask_channel``,
                then the following.
                ``target_w2c [B, 4, 4]`` float32 OpenCV world-to-camera (normalised as
                the config's ``pose_normalization`` prescribes), ``target_K [B, 3, 3]``
                float32 intrinsics in pixels of an ``image_size`` image, and
                ``reference_keys``, ``reference_values`` ``[depth, 1, heads, N, head_dim]``
                float32 from :class:`ReferenceCacheGraph` at the same timestep.

        Returns:
            ``[B, C, h, w]`` float32 epsilon (the first C channels with ``learn_sigma``).
        """
        mask = rest[0] if self.model.config.anchor_mask_channel else None
        target_w2c, target_K, reference_keys, reference_values = rest[-4:]
        eps = self.model.denoise_cached(x_t, timestep, anchor, mask, target_w2c, target_K,
                                        tuple(reference_keys.unbind(0)),
                                        tuple(reference_values.unbind(0)))
        return eps[:, :self.model.config.latent_channels]


class ReferenceCacheGraph(nn.Module):
    """:meth:`FrameModel.compute_reference_cache` with stacked outputs (``reference_cache.onnx``).

    Args:
        model: the frame model; needs ``reference_self_attention_only``.

    Raises:
        ValueError: the model cannot use a reference cache.
    """

    def __init__(self, model: FrameModel):
        super().__init__()
        if not model.config.reference_self_attention_only:
            raise ValueError("reference caching needs reference_self_attention_only=True")
        self.model = model

    def forward(self, reference: torch.Tensor, reference_w2c: torch.Tensor,
                reference_K: torch.Tensor, timestep: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """Keys and values of the reference tokens at one timestep.

        Args:
            reference: ``[1, C, h, w]`` float32 reference latent.
            reference_w2c: ``[1, 4, 4]`` float32 OpenCV world-to-camera, metres.
            reference_K: ``[1, 3, 3]`` float32 intrinsics, pixels of an ``image_size`` image.
            timestep: ``[1]`` float32 timestep.

        Returns:
            ``(keys, values)``, each ``[depth, 1, heads, N, head_dim]`` float32, PRoPE applied.
        """
        cache = self.model.compute_reference_cache(reference, reference_w2c, reference_K, timestep)
        return torch.stack(cache.keys), torch.stack(cache.values)


class EncoderGraph(nn.Module):
    """``autoencoder.encode``: ``images [B, 3, H, W]`` in ``[-1, 1]`` -> scaled latents."""

    def __init__(self, autoencoder: Any):
        super().__init__()
        self.autoencoder = autoencoder

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.autoencoder.encode(images)


class DecoderGraph(nn.Module):
    """``autoencoder.decode``: scaled latents ``[B, C, h, w]`` -> images (not clamped)."""

    def __init__(self, autoencoder: Any):
        super().__init__()
        self.autoencoder = autoencoder

    def forward(self, latents: torch.Tensor) -> torch.Tensor:
        return self.autoencoder.decode(latents)


# --------------------------------------------------------------------------- helpers
def _example_camera(image_size: int, batch: int, shift: float) -> tuple[torch.Tensor, torch.Tensor]:
    """A rigid w2c (small rotation about y, translation) and a 60-degree-ish K."""
    a = torch.tensor(0.1 + shift)
    w2c = torch.eye(4)
    w2c[0, 0], w2c[0, 2], w2c[2, 0], w2c[2, 2] = a.cos(), a.sin(), -a.sin(), a.cos()
    w2c[:3, 3] = torch.tensor([0.2 + shift, -0.1, 0.5])
    f = float(image_size)
    K = torch.tensor([[f, 0.0, image_size / 2], [0.0, f, image_size / 2], [0.0, 0.0, 1.0]])
    return w2c.expand(batch, 4, 4).clone(), K.expand(batch, 3, 3).clone()


def _spec(names: Sequence[str], tensors: Sequence[torch.Tensor]) -> list[dict[str, Any]]:
    return [{"name": n, "shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch.")}
            for n, t in zip(names, tensors)]


def _sha256(path: Path) -> str | None:
    if not path.is_file():
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _export_graph(module: nn.Module, args: tuple[torch.Tensor, ...], path: Path,
                  input_names: list[str], output_names: list[str], opset: int) -> None:
    """Trace ``module`` to ``path`` and run ``onnx.checker`` on the file."""
    import onnx

    with atomic_path(path) as tmp, warnings.catch_warnings():
        # Shape checks in the model are evaluated once on the example inputs (static shapes).
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", message=".*[Cc]onstant folding.*")
        torch.onnx.export(module, args, str(tmp), input_names=input_names,
                          output_names=output_names, opset_version=opset,
                          do_constant_folding=True, dynamo=False)
    onnx.checker.check_model(str(path), full_check=True)


def _max_rel(a: Any, b: Any) -> tuple[float, float]:
    """(max |a - b|, max |a - b| / max |b|) of two arrays."""
    import numpy as np

    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    diff = float(np.abs(a - b).max()) if a.size else 0.0
    return diff, diff / max(float(np.abs(b).max()), 1e-12)


def load_manifest(export_dir: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``onnx_manifest.json`` of an export directory.

    Args:
        export_dir: a directory written by :func:`export_onnx`.

    Returns:
        The manifest as a dict (see :func:`export_onnx`).

    Raises:
        FileNotFoundError: no manifest, or a graph file it names is missing.
        ValueError: not valid JSON, another format, or a newer format version.
    """
    d = Path(export_dir)
    path = d / MANIFEST_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{str(d)!r} is not an ONNX frame-model export: no {MANIFEST_FILE} "
                                "(run `worldbridge export-onnx`)")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != MANIFEST_FORMAT:
        raise ValueError(f"{path}: format is {manifest.get('format') if isinstance(manifest, dict) else None!r}, "
                         f"expected {MANIFEST_FORMAT!r}")
    if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
        raise ValueError(f"{path}: format_version {manifest['format_version']} is newer than this "
                         f"worldbridge reads ({FORMAT_VERSION})")
    for key, graph in manifest.get("graphs", {}).items():
        if not (d / graph["file"]).is_file():
            raise FileNotFoundError(f"{path} names {graph['file']!r} ({key}), which is missing")
    if int(manifest.get("format_version", 0)) < 2 and isinstance(manifest.get("model_config"), dict):
        manifest["model_config"] = {**LEGACY_CONDITIONING, **manifest["model_config"]}
    return manifest


# --------------------------------------------------------------------------- export
def export_onnx(bundle_dir_or_bundle: Any, out_dir: str | os.PathLike, opset: int = DEFAULT_OPSET,
                batch: int = 1, verify: bool = True, verify_atol: float = 1e-3) -> Path:
    """Export a frame-model bundle's four graphs and their manifest.

    Everything is float32 on the CPU with static shapes; the reference-cache graph always
    has batch 1 (a batch-1 cache serves any batch of target views).

    Args:
        bundle_dir_or_bundle: a bundle directory (:mod:`worldbridge.models.bundle`) or a
            loaded :class:`~worldbridge.models.bundle.FrameModelBundle` (its model and
            autoencoder are exported in float32 on the CPU; the object is not changed).
        out_dir: output directory (created; existing graphs and manifest are replaced).
        opset: ONNX opset (>= 14 for ``scaled_dot_product_attention``; 17 tested).
        batch: target views per denoiser / encoder / decoder call (>= 1; the ONNX generator
            needs 1).
        verify: if ``onnxruntime`` is importable, run every graph on the example inputs with
            the CPU provider and compare with PyTorch; the differences go into the manifest's
            ``verification``.
        verify_atol: largest max-abs difference the check accepts.

    Returns:
        ``out_dir`` as a :class:`~pathlib.Path`. It holds ``denoiser.onnx``,
        ``reference_cache.onnx``, ``encoder.onnx``, ``decoder.onnx`` and
        ``onnx_manifest.json``: ``{"format", "format_version", "opset", "batch",
        "image_size", "latent_shape" [C, h, w], "downsample", "timestep_dtype": "float32",
        "sampler_timesteps", "schedule", "model_config", "autoencoder", "source",
        "graphs": {name: {"file", "inputs": [{"name", "shape", "dtype"}], "outputs": [...]}},
        "verification"}``.

    Raises:
        ValueError: ``batch < 1``, ``opset < 14``, a model without
            ``reference_self_attention_only``, or ``latent_size * downsample != image_size``.
        CheckpointError: a missing or damaged bundle directory.
        ImportError: the ``onnx`` package is not installed.
        OnnxExportError: a graph fails ``onnx.checker`` or differs from PyTorch by more
            than ``verify_atol``.
    """
    import copy

    try:
        import onnx  # noqa: F401
    except ImportError:
        raise ImportError("ONNX export needs the `onnx` package: pip install onnx onnxruntime") from None
    from worldbridge.models.bundle import FrameModelBundle

    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise ValueError(f"batch must be an int >= 1, got {batch!r}")
    if isinstance(opset, bool) or not isinstance(opset, int) or opset < 14:
        raise ValueError(f"opset must be an int >= 14 (scaled_dot_product_attention), got {opset!r}")

    if isinstance(bundle_dir_or_bundle, FrameModelBundle):
        bundle = bundle_dir_or_bundle
        model = copy.deepcopy(bundle.model).to("cpu", torch.float32).eval().requires_grad_(False)
        autoencoder = cast(Any, copy.deepcopy(bundle.autoencoder)).to("cpu", torch.float32).eval()
    else:
        bundle = FrameModelBundle.load(bundle_dir_or_bundle, device="cpu", dtype=torch.float32)
        model, autoencoder = bundle.model, bundle.autoencoder
    cfg = model.config
    if not cfg.reference_self_attention_only:
        raise ValueError("ONNX export serves the cached denoiser and needs a model with "
                         "reference_self_attention_only=True")
    f = int(autoencoder.downsample)
    if cfg.latent_size * f != cfg.image_size:
        raise ValueError(f"the model's latent_size {cfg.latent_size} x the autoencoder's downsampling "
                         f"{f} must equal its image_size {cfg.image_size}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)

    c, h = cfg.latent_channels, cfg.latent_size
    size = h * f
    gen = torch.Generator().manual_seed(0)
    x_t = torch.randn(batch, c, h, h, generator=gen)
    anchor = torch.randn(batch, c, h, h, generator=gen)
    anchor_mask = (torch.rand(batch, 1, h, h, generator=gen) > 0.3).float()
    mask_in = (anchor_mask,) if cfg.anchor_mask_channel else ()
    mask_name = ["anchor_mask"] if cfg.anchor_mask_channel else []
    reference = torch.randn(1, c, h, h, generator=gen)
    timestep = torch.full((batch,), 999.0)
    t_ref = timestep[:1].clone()
    target_w2c, target_K = _example_camera(cfg.image_size, batch, 0.0)
    reference_w2c, reference_K = _example_camera(cfg.image_size, 1, 0.3)
    images = torch.rand(batch, 3, size, size, generator=gen) * 2 - 1

    ref_graph, denoiser = ReferenceCacheGraph(model), DenoiserStep(model)
    encoder, decoder = EncoderGraph(autoencoder), DecoderGraph(autoencoder)
    with torch.no_grad():
        keys, values = ref_graph(reference, reference_w2c, reference_K, t_ref)
        eps = denoiser(x_t, timestep, anchor, *mask_in, target_w2c, target_K, keys, values)
        latents = encoder(images)
        decoded = decoder(latents)

    graphs: dict[str, dict[str, Any]] = {}
    plan = [
        ("denoiser", DENOISER_FILE, denoiser,
         (x_t, timestep, anchor, *mask_in, target_w2c, target_K, keys, values),
         ["x_t", "timestep", "anchor", *mask_name, "target_w2c", "target_K", "reference_keys",
          "reference_values"], ["eps"], (eps,)),
        ("reference_cache", REFERENCE_CACHE_FILE, ref_graph,
         (reference, reference_w2c, reference_K, t_ref),
         ["reference", "reference_w2c", "reference_K", "timestep"],
         ["reference_keys", "reference_values"], (keys, values)),
        ("encoder", ENCODER_FILE, encoder, (images,), ["images"], ["latents"], (latents,)),
        ("decoder", DECODER_FILE, decoder, (latents,), ["latents"], ["images"], (decoded,)),
    ]
    verification: dict[str, Any] = {}
    try:
        import onnxruntime as ort
    except ImportError:
        ort = None
    for key, fname, module, args, in_names, out_names, expected in plan:
        path = out / fname
        try:
            _export_graph(module, args, path, in_names, out_names, opset)
        except Exception as e:  # onnx.checker.ValidationError and exporter errors
            raise OnnxExportError(f"exporting the {key} graph to {path} failed: {e}") from e
        graphs[key] = {"file": fname, "inputs": _spec(in_names, args),
                       "outputs": _spec(out_names, expected)}
        if verify and ort is not None:
            sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            got = sess.run(out_names, {n: a.numpy() for n, a in zip(in_names, args)})
            diffs = [_max_rel(g, e.numpy()) for g, e in zip(got, expected)]
            worst = max(d[0] for d in diffs)
            verification[key] = {"max_abs": worst, "max_rel": max(d[1] for d in diffs)}
            if not worst <= verify_atol:  # also catches NaN
                raise OnnxExportError(f"the exported {key} graph differs from PyTorch by {worst:.3g} "
                                      f"(max abs) > {verify_atol:g}")
    if verify and ort is not None:
        verification["onnxruntime"] = ort.__version__

    src_path = Path(bundle.path) if getattr(bundle, "path", None) is not None else None
    manifest = {
        "format": MANIFEST_FORMAT,
        "format_version": FORMAT_VERSION,
        "opset": opset,
        "batch": batch,
        "dtype": "float32",
        "timestep_dtype": "float32",
        "image_size": size,
        "latent_shape": [c, h, h],
        "downsample": f,
        "sampler_timesteps": [int(t) for t in bundle.timesteps],
        "schedule": bundle.schedule.config.to_dict(),
        "model_config": cfg.to_dict(),
        "reference_cache_shape": list(keys.shape),
        "autoencoder": {"class": type(autoencoder).__name__,
                        "latent_channels": int(autoencoder.latent_channels),
                        "downsample": f, "scaling_factor": float(autoencoder.scaling_factor)},
        "source": {"bundle": str(src_path) if src_path else None,
                   "model_sha256": _sha256(src_path / "model.safetensors") if src_path else None,
                   "torch": torch.__version__, "exporter": "torchscript"},
        "graphs": graphs,
        "verification": verification,
    }
    atomic_write_text(out / MANIFEST_FILE, json.dumps(manifest, indent=2) + "\n")
    return out


# --------------------------------------------------------------------------- CLI
def export_onnx_main(argv: Sequence[str] | None = None) -> int:
    """``worldbridge export-onnx [--bundle DIR] [--out DIR] [--opset N] [--batch B]``.

    Args:
        argv: arguments after the subcommand (default ``sys.argv[1:]``).

    Returns:
        0 on success, 1 when the bundle cannot be loaded or the export fails its check
        (the reason goes to stderr); argparse exits with 2 on bad arguments.
    """
    from worldbridge.generators.frame_model import default_bundle_path
    from worldbridge.models.checkpoint import CheckpointError

    p = argparse.ArgumentParser(prog="worldbridge export-onnx",
                                description="Export a frame-model bundle to ONNX graphs for "
                                            "ONNX Runtime serving (generator frame-model-onnx).")
    p.add_argument("--bundle", type=Path, default=None,
                   help="bundle directory (default: $WORLDBRIDGE_FRAME_MODEL or the starter model)")
    p.add_argument("--out", type=Path, default=None, help="output directory (default: <bundle>/onnx)")
    p.add_argument("--opset", type=int, default=DEFAULT_OPSET, help=f"ONNX opset (default {DEFAULT_OPSET})")
    p.add_argument("--batch", type=int, default=1, help="batch of the denoiser/autoencoder graphs (default 1)")
    p.add_argument("--no-verify", action="store_true", help="skip the ONNX Runtime parity check")
    args = p.parse_args(list(sys.argv[1:] if argv is None else argv))
    bundle = args.bundle or default_bundle_path()
    out = args.out or bundle / "onnx"
    try:
        path = export_onnx(bundle, out, opset=args.opset, batch=args.batch, verify=not args.no_verify)
    except (CheckpointError, ValueError, OnnxExportError, ImportError, OSError) as e:
        print(f"export-onnx: {e}", file=sys.stderr)
        return 1
    manifest = json.loads((path / MANIFEST_FILE).read_text())
    print(f"exported {', '.join(g['file'] for g in manifest['graphs'].values())} to {path}")
    for key, v in manifest["verification"].items():
        if isinstance(v, dict):
            print(f"  {key}: max abs diff vs PyTorch {v['max_abs']:.2e} (relative {v['max_rel']:.2e})")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(export_onnx_main())
