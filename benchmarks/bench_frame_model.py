"""Benchmark the 2-step frame-model generator: PyTorch vs ONNX Runtime, with FLOPs per frame.

For each model size (``tiny`` and ``small`` presets of :class:`FrameModelConfig`, both with
``image_size=256, latent_size=32``; the default :class:`CompactAutoencoder`, f = 8, 2.33M
parameters) a bundle with RANDOM weights is built in a temporary directory (speed does not
depend on the weights) and exported with :func:`~worldbridge.models.onnx_export.export_onnx`.
Then, on the CPU, at each of ``--threads`` (default 2, then 1): ``torch.set_num_threads(n)``
and ONNX Runtime ``intra_op_num_threads=n``. Two threads is the headline; one thread is a
control, because on a 2-core machine where another process is busy, PyTorch's OpenMP
threads wait on each other at every op barrier and multi-threaded runs can slow down many
times over:

* ``frame``: one full 2-step frame of the ``frame-model`` generator (PyTorch, the baseline)
  and of ``frame-model-onnx``, both :class:`~worldbridge.models.pipeline.FramePipeline`:
  prepare and encode the 256 x 256 anchor (a quarter of it holes), 2 cached denoiser calls
  (t = 999, then re-noise to 200), decode, anchor-locked compositing. The reference view
  stays the same, so its keys/values are cached (computed in the warm-up); every timed
  frame has a new pose and seed.
* ``denoiser call``: one denoiser forward, PyTorch uncached (reference tokens recomputed),
  PyTorch cached and ONNX Runtime cached, and the per-keyframe ``reference cache`` build
  (both timesteps) in each runtime: the saving from reference caching.

Each case: warm-up runs, then ``--repeats`` timed runs; median and p95 wall-clock
milliseconds, frames (or calls) per second from the median, and the speed-up against the
PyTorch case of the same row group and thread count, measured in the same run.

FLOPs are counted, not estimated: :class:`torch.utils.flop_counter.FlopCounterMode` over one
PyTorch call (matmuls, convolutions and attention; the CPU flash-attention kernel is
registered with PyTorch's own SDPA formula; elementwise ops, norms and softmax are not
counted). A multiply-add is 2 FLOPs. The ONNX graphs are traces of the same modules, so they
do the same work.

The 1-minute load average is printed before and after each case: other processes on a
2-core machine slow multi-threaded CPU runs down.

    python benchmarks/bench_frame_model.py [--models tiny,small] [--threads 2,1] [--repeats 30]
                                           [--warmup 3] [--json results.json | --json -]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils import flop_counter
from torch.utils.flop_counter import FlopCounterMode

from worldbridge.generators import GeneratorOptions
from worldbridge.generators.base import GenerationContext
from worldbridge.generators.frame_model import FrameModelGenerator
from worldbridge.generators.frame_model_onnx import FrameModelOnnxGenerator
from worldbridge.geometry import Intrinsics
from worldbridge.geometry.views import Camera, ReferenceView
from worldbridge.models import (
    CompactAutoencoder,
    CompactAutoencoderConfig,
    FrameModel,
    FrameModelConfig,
    ScheduleConfig,
    save_bundle,
    save_checkpoint,
)
from worldbridge.models.onnx_export import export_onnx

IMAGE_SIZE = 256
LATENT_SIZE = 32
def _sdpa_cpu_flops(q, k, v, *args, out_shape=None, **kwargs) -> int:
    return flop_counter.sdpa_flop_count(q, k, v)


# FlopCounterMode knows the CUDA attention kernels but not the CPU flash kernel.
FLOP_MAPPING = {torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _sdpa_cpu_flops}


def count_flops(fn) -> int:
    """FLOPs of one call of ``fn`` (see the module docstring for what is counted)."""
    with FlopCounterMode(display=False, custom_mapping=FLOP_MAPPING) as counter:
        fn()
    return int(counter.get_total_flops())


def make_bundle(root: Path, name: str) -> Path:
    """A bundle with random weights (final layer too, so outputs are not all zero)."""
    preset = {"tiny": FrameModelConfig.tiny, "small": FrameModelConfig.small}[name]
    cfg = preset(image_size=IMAGE_SIZE, latent_size=LATENT_SIZE)
    torch.manual_seed(0)
    model = FrameModel(cfg)
    with torch.no_grad():
        model.final_layer.linear.weight.normal_(0, 0.02)
    save_checkpoint(model, root / "ckpt",
                    extra={"schedule": ScheduleConfig().to_dict(), "sampler_timesteps": [999, 200]})
    CompactAutoencoder(CompactAutoencoderConfig()).save(root / "ae")
    return save_bundle(root / "bundle", root / "ckpt", root / "ae")


class Contexts:
    """Frames along a short dolly with a new seed each; one fixed reference view; a quarter
    of each anchor is holes (compositing and its distance transform are part of a frame)."""

    def __init__(self, size: int = IMAGE_SIZE):
        rng = np.random.default_rng(0)
        self.k = Intrinsics.from_vertical_fov(60.0, size, size)
        self.anchor = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        self.references = [ReferenceView(0, rng.integers(0, 256, (size, size, 3), dtype=np.uint8),
                                         Camera(np.eye(4), self.k), scale=3.0)]
        self.depth = np.ones((size, size), np.float32)
        self.mask = np.ones((size, size), bool)
        self.mask[:, 3 * size // 4:] = False
        self.i = 0

    def next(self) -> GenerationContext:
        self.i += 1
        c2w = np.eye(4)
        c2w[:3, 3] = [0.01 * self.i, 0.0, 0.02 * self.i]
        return GenerationContext(self.anchor, self.depth, self.mask, Camera(c2w, self.k),
                                 self.references, seed=self.i)


def time_case(fn, repeats: int, warmup: int) -> dict:
    """Warm up, then time ``repeats`` calls; milliseconds and the load average around them."""
    for _ in range(warmup):
        fn()
    load_before = os.getloadavg()[0]
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    t = np.array(times)
    med = float(np.median(t))
    return {"median_ms": med, "p95_ms": float(np.percentile(t, 95)), "min_ms": float(t.min()),
            "per_s": 1e3 / med, "repeats": repeats, "load_before": load_before,
            "load_after": os.getloadavg()[0]}


def bench_model(name: str, threads: list[int], repeats: int, warmup: int) -> dict:
    """All cases for one model size at each thread count (see the module docstring)."""
    with tempfile.TemporaryDirectory() as tmp:
        bundle_dir = make_bundle(Path(tmp), name)
        t0 = time.perf_counter()
        export_dir = export_onnx(bundle_dir, bundle_dir / "onnx")
        export_s = time.perf_counter() - t0
        onnx_bytes = sum(p.stat().st_size for p in export_dir.glob("*.onnx"))
        torch_gen = FrameModelGenerator(GeneratorOptions(bundle=bundle_dir, device="cpu"))
        model, cfg = torch_gen.bundle.model, torch_gen.bundle.model.config
        params = sum(p.numel() for p in model.parameters())
        ae_params = sum(p.numel() for p in torch_gen.bundle.autoencoder.parameters())
        ctx = Contexts()

        g = torch.Generator().manual_seed(1)
        shape = (1, cfg.latent_channels, cfg.latent_size, cfg.latent_size)
        x_t, anchor, ref = (torch.randn(shape, generator=g) for _ in range(3))
        mask = torch.rand((1, 1) + shape[2:], generator=g) if cfg.anchor_mask_channel else None
        w2c = torch.eye(4)[None]
        ref_w2c = w2c.clone()
        ref_w2c[0, :3, 3] = torch.tensor([0.3, 0.0, 0.1])
        K = torch.tensor(ctx.k.scaled(cfg.image_size, cfg.image_size).K, dtype=torch.float32)[None]
        t = torch.tensor([999])
        with torch.inference_mode():
            cache = model.compute_reference_cache(ref, ref_w2c, K, t)

        def uncached():
            return model(x_t, t, anchor, ref, w2c, K, ref_w2c, K, anchor_mask=mask)

        def cached():
            return model(x_t, t, anchor, None, w2c, K, None, None, reference_cache=cache,
                         anchor_mask=mask)

        def build_torch():
            return [model.compute_reference_cache(ref, ref_w2c, K, torch.tensor([s]))
                    for s in torch_gen.bundle.timesteps]

        torch_gen.generate(ctx.next())  # encodes the reference and builds its caches
        with torch.inference_mode():
            frame_flops = count_flops(lambda: torch_gen.generate(ctx.next()))
            flops = {"torch uncached": count_flops(uncached), "torch cached": count_flops(cached),
                     "torch reference cache (2 timesteps)": count_flops(build_torch)}
        flops["onnxruntime cached"] = flops["torch cached"]
        flops["onnxruntime reference cache (2 timesteps)"] = flops["torch reference cache (2 timesteps)"]

        frames: dict[str, dict] = {}
        calls: dict[str, dict] = {}
        few = max(repeats // 3, 3)
        for n in threads:
            torch.set_num_threads(n)
            onnx_gen = FrameModelOnnxGenerator(GeneratorOptions(
                onnx_dir=export_dir, ort_providers=("CPUExecutionProvider",), ort_threads=n))
            om = onnx_gen.model
            # Full frames (the warm-up inside time_case builds the reference caches).
            frames[f"torch, {n} thr"] = time_case(lambda: torch_gen.generate(ctx.next()), repeats, warmup)
            frames[f"onnxruntime, {n} thr"] = time_case(lambda g=onnx_gen: g.generate(ctx.next()), repeats,
                                                       warmup)
            # Single denoiser calls: uncached vs cached, and the per-keyframe cache build.
            ort_cache = om.reference_cache(ref.numpy(), ref_w2c.numpy(), K.numpy(), 999.0)
            with torch.inference_mode():
                calls[f"torch uncached, {n} thr"] = time_case(uncached, repeats, warmup)
                calls[f"torch cached, {n} thr"] = time_case(cached, repeats, warmup)
                calls[f"onnxruntime cached, {n} thr"] = time_case(lambda om=om, c=ort_cache: om.denoise(
                    x_t.numpy(), 999.0, anchor.numpy(), None if mask is None else mask.numpy(),
                    w2c.numpy(), K.numpy(), c), repeats, warmup)
                calls[f"torch reference cache (2 timesteps), {n} thr"] = time_case(build_torch, few, 1)
                calls[f"onnxruntime reference cache (2 timesteps), {n} thr"] = time_case(
                    lambda om=om, ts=onnx_gen.pipeline.timesteps: [
                        om.reference_cache(ref.numpy(), ref_w2c.numpy(), K.numpy(), float(s))
                        for s in ts], few, 1)
            providers = onnx_gen.providers
        torch.set_num_threads(threads[0])

        for key, r in frames.items():
            n = key.rsplit(", ", 1)[1]
            r["gflops"] = frame_flops / 1e9
            r["speedup_vs_torch"] = frames[f"torch, {n}"]["median_ms"] / r["median_ms"]
        for key, r in calls.items():
            case, n = key.rsplit(", ", 1)
            r["gflops"] = flops[case] / 1e9
            base = "torch reference cache (2 timesteps)" if "reference" in case else "torch uncached"
            r["speedup_vs_torch"] = calls[f"{base}, {n}"]["median_ms"] / r["median_ms"]
        return {"model": name, "config": cfg.to_dict(), "params": params,
                "autoencoder_params": ae_params, "export_s": export_s, "onnx_bytes": onnx_bytes,
                "reference_cache_bytes_per_timestep": cache.nbytes, "threads": threads,
                "providers": providers, "frame": frames, "denoiser_call": calls}


def machine_info() -> dict:
    import onnxruntime as ort

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cpu_count": os.cpu_count(), "torch": torch.__version__,
            "onnxruntime": ort.__version__, "python": platform.python_version(),
            "load_average_1m_start": os.getloadavg()[0]}


def print_table(results: list[dict], machine: dict, repeats: int, warmup: int) -> None:
    print(f"frame model, 2-step generator, {IMAGE_SIZE}x{IMAGE_SIZE} (latent {LATENT_SIZE}x{LATENT_SIZE}), "
          f"random weights, CPU, threads {machine['threads']} (torch.set_num_threads / ORT intra_op_num_threads); "
          f"{repeats} repeats after {warmup} warm-up runs")
    print(f"machine: {machine}")
    head = f"{'model':6s} {'case':56s} {'median ms':>10s} {'p95 ms':>8s} {'per s':>7s} {'GFLOP':>7s} " \
           f"{'vs torch':>8s} {'load 1m':>11s}"
    print(head)
    print("-" * len(head))
    for res in results:
        rows = [(f"frame: {k}", r) for k, r in res["frame"].items()]
        rows += [(f"denoiser call: {k}", r) for k, r in res["denoiser_call"].items()]
        for label, r in rows:
            print(f"{res['model']:6s} {label:56s} {r['median_ms']:10.1f} {r['p95_ms']:8.1f} "
                  f"{r['per_s']:7.2f} {r['gflops']:7.2f} {r['speedup_vs_torch']:7.2f}x "
                  f"{r['load_before']:5.2f}-{r['load_after']:4.2f}")
        n = res["threads"][0]
        unc = res["denoiser_call"][f"torch uncached, {n} thr"]
        cac = res["denoiser_call"][f"torch cached, {n} thr"]
        print(f"{res['model']:6s} params {res['params'] / 1e6:.2f}M (+ autoencoder "
              f"{res['autoencoder_params'] / 1e6:.2f}M); reference caching saves "
              f"{1 - cac['gflops'] / unc['gflops']:.0%} of denoiser FLOPs and "
              f"{1 - cac['median_ms'] / unc['median_ms']:.0%} of its time ({n} thr); cache "
              f"{res['reference_cache_bytes_per_timestep'] / 2**20:.2f} MiB per timestep; "
              f"export {res['export_s']:.1f} s, {res['onnx_bytes'] / 2**20:.1f} MiB of .onnx")
    print(f"peak RSS of the process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default="tiny,small", help="comma-separated presets (tiny, small)")
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3, help="untimed runs per case")
    ap.add_argument("--threads", default="2,1",
                    help="thread counts to run, comma-separated; the first is the headline, "
                         "1 is a control for a loaded machine (default 2,1)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON here ('-': stdout)")
    args = ap.parse_args(argv)
    threads = [int(n) for n in args.threads.split(",") if n.strip()]
    if not threads or min(threads) < 1:
        ap.error(f"--threads needs positive integers, got {args.threads!r}")
    torch.set_num_threads(threads[0])
    machine = machine_info()
    machine["threads"] = threads
    results = [bench_model(m.strip(), threads, args.repeats, args.warmup)
               for m in args.models.split(",") if m.strip()]
    machine["load_average_1m_end"] = os.getloadavg()[0]
    out = {"benchmark": "frame_model", "image_size": IMAGE_SIZE, "latent_size": LATENT_SIZE,
           "weights": "random", "machine": machine,
           "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
           "results": results}
    if args.json == "-":
        json.dump(out, sys.stdout, indent=2)
        print()
        return
    print_table(results, machine, args.repeats, args.warmup)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
