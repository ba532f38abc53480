"""The GPU suite: one command that measures WorldBridge's serving path on a CUDA GPU.

Sized to finish in well under 8 minutes on one H100 or H200 (defaults: xl at 512 x 512,
200 timed frames per case). Three parts, each against a baseline measured in the same run:

1. **Anchor renderer**: 1M random points into a 512 x 512 camera with the PyTorch
   scatter-min backend on the device, against the numba CPU backend (the CPU path), and
   whether the two agree bit for bit (image, depth and mask; the renderer's projection is
   specified exactly in float32, :mod:`worldbridge.render.zbuffer`).
2. **End-to-end frames, xl config at 512 x 512** (random weights, the default compact
   autoencoder, f = 8): per frame the anchor render of a 1M-point scene memory on the
   device, the one inference pipeline (:class:`~worldbridge.models.pipeline.FramePipeline`:
   anchor preparation, encode, 2 cached denoiser steps at t = 999 and 200, decode,
   anchor-locked compositing) and the RGBA8 texture, timed per frame; frames/s and p50 /
   p99 latency in float32, in bf16 autocast, and in bf16 with CUDA graphs (denoiser,
   encoder and decoder replayed), with the largest difference of the graphed frames from
   the eager bf16 frames (uint8 levels).
3. **ONNX Runtime** on the providers that import (TensorRT, CUDA; CPU as the baseline),
   for a smaller config (``--onnx-config``, default ``small``: exporting xl takes minutes
   and nearly 2 GB per graph): the same pipeline on
   :class:`~worldbridge.models.onnx_backend.OnnxBackend`.

The tests run it on the CPU with the tiny config (``--device cpu --config tiny --size 64``)
so the code stays working without a GPU; CUDA-only cases are then reported as skipped.

    python benchmarks/gpu_suite.py [--device cuda] [--config xl] [--size 512]
                                   [--points 1000000] [--frames 200] [--warmup 10]
                                   [--onnx-config small] [--json results.json | --json -]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from worldbridge.geometry import Intrinsics
from worldbridge.geometry.views import Camera, ReferenceView
from worldbridge.models import (
    CompactAutoencoder,
    CompactAutoencoderConfig,
    DistilledSampler,
    FrameModel,
    FrameModelConfig,
    NoiseSchedule,
    ScheduleConfig,
)
from worldbridge.models.pipeline import FramePipeline
from worldbridge.render import render_points
from worldbridge.render import warmup as render_warmup
from worldbridge.wire.texture import RowOrder, TextureFormat, encode_texture

TIMESTEPS = (999, 200)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _stats(times_ms: list[float]) -> dict:
    t = np.asarray(times_ms)
    med = float(np.median(t))
    return {"p50_ms": med, "p99_ms": float(np.percentile(t, 99)), "mean_ms": float(t.mean()),
            "frames_per_s": 1e3 / float(t.mean()), "n": int(t.size)}


def _timed(fn, n: int, warmup: int, device: torch.device) -> tuple[dict, object]:
    out = None
    for _ in range(warmup):
        out = fn(-1)
    _sync(device)
    times = []
    for i in range(n):
        t0 = time.perf_counter()
        out = fn(i)
        _sync(device)
        times.append((time.perf_counter() - t0) * 1e3)
    return _stats(times), out


def scene_points(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points spread over a 90-degree frustum between 1 and 10 m in front of the
    origin (OpenCV), RGB uint8."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(1.0, 10.0, n)
    pts = np.stack([rng.uniform(-1, 1, n) * z, rng.uniform(-1, 1, n) * z, z], 1).astype(np.float32)
    return pts, rng.integers(0, 256, (n, 3), dtype=np.uint8)


def _pose(i: int) -> np.ndarray:
    """A camera drifting sideways and forward, a new pose (and noise seed) per frame."""
    c2w = np.eye(4)
    c2w[:3, 3] = [0.002 * i, 0.0, 0.004 * i]
    return c2w


def bench_renderer(points: int, size: int, device: torch.device, repeats: int) -> dict:
    """Part 1: the renderer on ``device`` against the numba CPU path, and their equality."""
    pts, cols = scene_points(points)
    k = Intrinsics(size / 2, size / 2, size / 2, size / 2, size, size)
    w2c = np.linalg.inv(_pose(7))
    render_warmup()
    cpu_stats, cpu = _timed(lambda i: render_points(pts, cols, w2c, k.K, size, size, backend="numba"),
                            repeats, 2, torch.device("cpu"))
    pts_d, cols_d = torch.from_numpy(pts).to(device), torch.from_numpy(cols).to(device)
    dev_stats, out = _timed(lambda i: render_points(pts_d, cols_d, w2c, k.K, size, size,
                                                    backend="torch"), repeats, 2, device)
    image, depth, mask = (x.cpu().numpy() for x in (out.image, out.depth, out.mask))
    equal = bool(np.array_equal(image, cpu.image) and np.array_equal(depth, cpu.depth)
                 and np.array_equal(mask, cpu.mask))
    return {"points": points, "size": size, "device": str(device),
            "cpu_numba": cpu_stats, "torch_on_device": dev_stats,
            "speedup_vs_cpu": cpu_stats["p50_ms"] / dev_stats["p50_ms"],
            "bit_identical_to_cpu": equal, "coverage": float(cpu.mask.mean())}


def _random_model(config: str, size: int, seed: int = 0) -> tuple[FrameModel, CompactAutoencoder]:
    preset = getattr(FrameModelConfig, config)
    cfg = preset(image_size=size, latent_size=size // 8)
    torch.manual_seed(seed)
    model = FrameModel(cfg)
    with torch.no_grad():  # the zero-initialised output layer would make every frame grey
        model.final_layer.linear.weight.normal_(0, 0.02)
        if model.mask_embedder is not None:
            model.mask_embedder.proj.weight.normal_(0, 0.02)
    return model.eval(), CompactAutoencoder(CompactAutoencoderConfig()).eval()


class _Scene:
    """``points`` anchor points (on ``device`` unless it is the CPU), a reference view, poses.

    The anchor render is :func:`~worldbridge.render.render_points`, what a session's
    :meth:`~worldbridge.memory.SceneMemory.render` runs (``backend="auto"``: numba on the
    CPU, the PyTorch scatter-min on a GPU)."""

    def __init__(self, points: int, size: int, device: torch.device):
        pts, cols = scene_points(points, seed=1)
        self.k = Intrinsics(size / 2, size / 2, size / 2, size / 2, size, size)
        if device.type == "cpu":
            self.points, self.colors = pts, cols
        else:
            self.points, self.colors = torch.from_numpy(pts).to(device), torch.from_numpy(cols).to(device)
        rgb, _ = self._anchor(np.eye(4))
        self.references = [ReferenceView(0, rgb, Camera(np.eye(4), self.k), 5.0)]
        self.size = size

    def _anchor(self, c2w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.k.width
        r = render_points(self.points, self.colors, np.linalg.inv(c2w), self.k.K, s, s)
        image, mask = r.image, r.mask
        if isinstance(image, torch.Tensor):
            image, mask = image.cpu().numpy(), mask.cpu().numpy()
        return np.ascontiguousarray(image), mask

    def frame(self, pipe: FramePipeline, i: int) -> tuple[np.ndarray, bytes]:
        c2w = _pose(i + 2)
        image, mask = self._anchor(c2w)
        rgb = pipe.generate(image, mask, Camera(c2w, self.k), self.references, seed=1000 + i)
        return rgb, encode_texture(rgb, TextureFormat.RGBA8, RowOrder.TOP_DOWN)


def bench_end_to_end(config: str, size: int, points: int, device: torch.device, frames: int,
                     warmup: int) -> dict:
    """Part 2: whole frames through the pipeline in float32, bf16 and bf16 + CUDA graphs."""
    model, ae = _random_model(config, size)
    schedule = NoiseSchedule(ScheduleConfig())
    scene = _Scene(points, size, device)
    params = sum(p.numel() for p in model.parameters())
    cases = [("fp32", "fp32", False), ("bf16", "bf16", False), ("bf16 + CUDA graphs", "bf16", True)]
    out: dict = {"config": config, "params": params, "size": size, "points": points,
                 "device": str(device), "sampler_timesteps": list(TIMESTEPS), "cases": {}}
    frames_by_case = {}
    for name, precision, graphs in cases:
        if graphs and device.type != "cuda":
            out["cases"][name] = {"skipped": "CUDA graphs need a CUDA device"}
            continue
        pipe = FramePipeline.from_model(model, ae, schedule, DistilledSampler(schedule, TIMESTEPS),
                                        device=device, precision=precision, cuda_graphs=graphs)
        stats, _ = _timed(lambda i, p=pipe: scene.frame(p, i), frames, warmup, device)
        frames_by_case[name] = [scene.frame(pipe, i)[0] for i in range(3)]
        stats["peak_memory_mib"] = (torch.cuda.max_memory_allocated(device) / 2**20
                                    if device.type == "cuda" else None)
        out["cases"][name] = stats
    if "bf16 + CUDA graphs" in frames_by_case:
        diff = max(int(np.abs(a.astype(int) - b.astype(int)).max()) for a, b in
                   zip(frames_by_case["bf16 + CUDA graphs"], frames_by_case["bf16"]))
        out["cuda_graphs_max_diff_vs_eager"] = diff
    base = out["cases"]["fp32"]["p50_ms"]
    for s in out["cases"].values():
        if "p50_ms" in s:
            s["speedup_vs_fp32"] = base / s["p50_ms"]
    return out


def bench_onnx(config: str, size: int, points: int, frames: int, warmup: int) -> dict:
    """Part 3: the same pipeline on ONNX Runtime, per available provider."""
    try:
        import onnxruntime as ort
    except ImportError:
        return {"skipped": "onnxruntime is not installed"}
    from worldbridge.models import save_bundle, save_checkpoint
    from worldbridge.models.onnx_backend import OnnxBackend, OnnxFrameModel
    from worldbridge.models.onnx_export import export_onnx

    available = ort.get_available_providers()
    wanted = [p for p in ("TensorrtExecutionProvider", "CUDAExecutionProvider",
                          "CPUExecutionProvider") if p in available]
    model, ae = _random_model(config, size)
    schedule = NoiseSchedule(ScheduleConfig())
    scene = _Scene(points, size, torch.device("cpu"))
    out: dict = {"config": config, "size": size, "available_providers": available, "cases": {}}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        save_checkpoint(model, root / "ckpt", extra={"schedule": schedule.config.to_dict(),
                                                     "sampler_timesteps": list(TIMESTEPS)})
        ae.save(root / "ae")
        bundle = save_bundle(root / "bundle", root / "ckpt", root / "ae")
        t0 = time.perf_counter()
        export = export_onnx(bundle, root / "onnx")
        out["export_s"] = time.perf_counter() - t0
        for provider in wanted:
            try:
                om = OnnxFrameModel(export, [provider])
            except Exception as e:  # a provider whose libraries do not load here
                out["cases"][provider] = {"skipped": f"{type(e).__name__}: {e}"}
                continue
            pipe = FramePipeline(OnnxBackend(om), model.config, schedule,
                                 DistilledSampler(schedule, TIMESTEPS))
            stats, _ = _timed(lambda i, p=pipe: scene.frame(p, i), frames, warmup,
                              torch.device("cpu"))
            stats["providers_in_use"] = om.providers
            out["cases"][provider] = stats
    cpu = out["cases"].get("CPUExecutionProvider", {})
    for s in out["cases"].values():
        if "p50_ms" in s and "p50_ms" in cpu:
            s["speedup_vs_cpu_provider"] = cpu["p50_ms"] / s["p50_ms"]
    return out


def machine() -> dict:
    info = {"python": platform.python_version(), "torch": torch.__version__,
            "cpu_count": os.cpu_count(), "load_average_1m": os.getloadavg()[0],
            "torch_threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name()
        info["cuda"] = torch.version.cuda
    return info


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--config", default="xl", choices=("tiny", "small", "xl"))
    ap.add_argument("--size", type=int, default=512, help="frame side, pixels (multiple of 16)")
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--frames", type=int, default=200, help="timed frames per case")
    ap.add_argument("--warmup", type=int, default=10, help="untimed frames per case")
    ap.add_argument("--onnx-config", default="small", choices=("tiny", "small", "xl", "none"))
    ap.add_argument("--json", metavar="PATH", help="write the results as JSON ('-': stdout)")
    args = ap.parse_args(argv)
    if args.size % 16:
        ap.error(f"--size must be a multiple of 16, got {args.size}")
    device = torch.device(args.device)
    t0 = time.perf_counter()
    result = {"benchmark": "gpu_suite", "machine": machine(),
              "renderer": bench_renderer(args.points, args.size, device, max(10, args.frames // 4)),
              "end_to_end": bench_end_to_end(args.config, args.size, args.points, device,
                                             args.frames, args.warmup)}
    if args.onnx_config != "none":
        result["onnx"] = bench_onnx(args.onnx_config, args.size, args.points,
                                    max(10, args.frames // 4), max(2, args.warmup // 2))
    result["seconds"] = time.perf_counter() - t0
    text = json.dumps(result, indent=2)
    if args.json == "-":
        print(text)
    else:
        _print(result)
        if args.json:
            Path(args.json).write_text(text + "\n")
    return result


def _print_cases(cases: dict, speedup_key: str, baseline: str) -> None:
    for name, s in cases.items():
        if "skipped" in s:
            print(f"  {name:28s} skipped: {s['skipped']}")
            continue
        ratio = f"  ({s[speedup_key]:.2f}x {baseline})" if speedup_key in s else ""
        print(f"  {name:28s} {s['frames_per_s']:7.1f} frames/s  p50 {s['p50_ms']:7.2f} ms  "
              f"p99 {s['p99_ms']:7.2f} ms{ratio}")


def _print(r: dict) -> None:
    m = r["machine"]
    print(f"machine: {m}")
    rd = r["renderer"]
    print(f"renderer, {rd['points']} points into {rd['size']}^2: numba CPU "
          f"{rd['cpu_numba']['p50_ms']:.2f} ms, torch on {rd['device']} "
          f"{rd['torch_on_device']['p50_ms']:.2f} ms ({rd['speedup_vs_cpu']:.1f}x), "
          f"bit-identical: {rd['bit_identical_to_cpu']}")
    e = r["end_to_end"]
    print(f"end to end, {e['config']} ({e['params'] / 1e6:.0f}M parameters) at {e['size']}^2, "
          f"{e['points']} points, on {e['device']}:")
    _print_cases(e["cases"], "speedup_vs_fp32", "fp32")
    if "cuda_graphs_max_diff_vs_eager" in e:
        print(f"  CUDA graphs vs eager bf16: max {e['cuda_graphs_max_diff_vs_eager']} levels")
    o = r.get("onnx")
    if o:
        if "skipped" in o:
            print(f"onnx: skipped: {o['skipped']}")
        else:
            print(f"onnx runtime, {o['config']} at {o['size']}^2 (export {o['export_s']:.0f} s):")
            _print_cases(o["cases"], "speedup_vs_cpu_provider", "CPU provider")
    print(f"suite: {r['seconds']:.0f} s")


if __name__ == "__main__":
    main()
    sys.exit(0)
