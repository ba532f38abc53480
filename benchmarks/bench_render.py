"""Benchmark the z-buffer anchor renderer: 1M random points into a 512x512 camera.

Baseline: the vectorised PyTorch scatter-min backend on the CPU, measured in the same run
(with torch's default intra-op threads, and again with one thread: on a machine whose other
core is busy, multi-threaded torch CPU ops can slow down many times over, so the load
average is printed with the results).
Cases: the compiled numba CPU backend (what ``backend="auto"`` picks on the CPU), with and
without a 1-pixel splat, and PyTorch on CUDA when available. Every case renders the same
points with the same camera, is warmed up first, and reports median and p95 wall-clock
milliseconds over the repeats (CUDA timings include a synchronise), plus the speed-up
against the baseline (baseline median / case median).

    python benchmarks/bench_render.py [--points 1000000] [--size 512] [--repeats 30]
                                      [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import time

import numpy as np
import torch

from worldbridge.render import render_points, warmup


def make_scene(n: int, size: int, seed: int = 0):
    """``n`` points uniformly spread over a 90-degree frustum between 1 and 10 m, RGB uint8."""
    rng = np.random.default_rng(seed)
    z = rng.uniform(1.0, 10.0, n)
    pts = np.stack([rng.uniform(-1, 1, n) * z, rng.uniform(-1, 1, n) * z, z], axis=1)
    colors = rng.integers(0, 256, (n, 3), dtype=np.uint8)
    k = np.array([[size / 2, 0, size / 2], [0, size / 2, size / 2], [0, 0, 1.0]])
    w2c = np.eye(4)
    w2c[:3, 3] = [0.05, -0.02, 0.1]
    return pts.astype(np.float32), colors, w2c, k


def _one_thread(fn):
    """Run ``fn`` with torch limited to one intra-op thread (immune to a busy second core)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return fn()
    finally:
        torch.set_num_threads(threads)


def time_case(fn, repeats: int, warmup_runs: int, sync=None) -> dict:
    for _ in range(warmup_runs):
        fn()
    if sync:
        sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        if sync:
            sync()
        times.append((time.perf_counter() - t0) * 1e3)
    t = np.array(times)
    return {"median_ms": float(np.median(t)), "p95_ms": float(np.percentile(t, 95)),
            "min_ms": float(t.min()), "repeats": repeats}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--size", type=int, default=512, help="image width and height, pixels")
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=3, help="untimed runs per case")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON here")
    args = ap.parse_args()

    pts, colors, w2c, k = make_scene(args.points, args.size)
    t0 = time.perf_counter()
    warmup()
    compile_ms = (time.perf_counter() - t0) * 1e3
    pts_t, colors_t = torch.from_numpy(pts), torch.from_numpy(colors)
    size = args.size

    cases: dict[str, tuple] = {
        "torch-cpu scatter-min (baseline)": (lambda: render_points(
            pts_t, colors_t, w2c, k, size, size, backend="torch"), None),
        "torch-cpu scatter-min, 1 thread": (lambda: _one_thread(lambda: render_points(
            pts_t, colors_t, w2c, k, size, size, backend="torch")), None),
        "numba-cpu": (lambda: render_points(pts, colors, w2c, k, size, size, backend="numba"),
                      None),
        "torch-cpu splat r=1": (lambda: render_points(
            pts_t, colors_t, w2c, k, size, size, point_radius_px=1, backend="torch"), None),
        "numba-cpu splat r=1": (lambda: render_points(
            pts, colors, w2c, k, size, size, point_radius_px=1, backend="numba"), None),
    }
    if torch.cuda.is_available():
        pts_c, colors_c = pts_t.cuda(), colors_t.cuda()
        cases["torch-cuda"] = (lambda: render_points(pts_c, colors_c, w2c, k, size, size),
                               torch.cuda.synchronize)
        cases["torch-cuda splat r=1"] = (lambda: render_points(
            pts_c, colors_c, w2c, k, size, size, point_radius_px=1), torch.cuda.synchronize)

    results = {}
    for name, (fn, sync) in cases.items():
        if sync is not None:
            torch.cuda.reset_peak_memory_stats()
        results[name] = time_case(fn, args.repeats, args.warmup, sync)
        if sync is not None:
            results[name]["cuda_peak_mib"] = torch.cuda.max_memory_allocated() / 2**20
    base = results["torch-cpu scatter-min (baseline)"]["median_ms"]
    for r in results.values():
        r["speedup_vs_baseline"] = base / r["median_ms"]

    machine = {
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "cuda": torch.cuda.get_device_name() if torch.cuda.is_available() else None,
        "python": platform.python_version(),
        "load_average_1m": os.getloadavg()[0],
    }
    print(f"render_points: {args.points:,} random points -> {size}x{size}, "
          f"{args.repeats} repeats after {args.warmup} warm-up runs")
    print(f"machine: {machine}; numba warm-up {compile_ms:.0f} ms")
    print(f"{'case':36s} {'median ms':>10s} {'p95 ms':>9s} {'speed-up':>9s}")
    for name, r in results.items():
        print(f"{name:36s} {r['median_ms']:10.2f} {r['p95_ms']:9.2f} "
              f"{r['speedup_vs_baseline']:8.2f}x")
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the process: {peak_rss:.0f} MiB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"benchmark": "render_points", "points": args.points, "height": size,
                       "width": size, "machine": machine, "numba_warmup_ms": compile_ms,
                       "peak_rss_mib": peak_rss, "results": results}, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
