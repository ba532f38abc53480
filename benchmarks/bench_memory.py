"""Benchmark SceneMemory.add_view: 512x512 keyframes, realistic and adversarial depth.

Two scenes, each a sequence of keyframes from a camera sliding sideways:

* ``room``: a wall 4 m ahead and a floor 1.5 m below (smooth depth: many pixels share a
  voxel, most of each keyframe is already in memory);
* ``noise``: uniform random depth in [2, 10] m (every pixel a new voxel: the worst case
  for de-duplication and eviction), with the memory full and evicting after a few views.

Baseline (same run): lifting the same view with plain numpy in float64 (the
unprojection alone, no de-duplication), as a pure-numpy implementation would.
Reports median and p95 milliseconds over the steady-state adds (the first
``--skip`` adds, where storage and hash tables grow, are reported separately).

    python benchmarks/bench_memory.py [--views 30] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from worldbridge.geometry import Intrinsics
from worldbridge.memory import SceneMemory, warmup


def numpy_unproject(depth: np.ndarray, intr: Intrinsics, c2w: np.ndarray) -> np.ndarray:
    """The baseline: a straightforward float64 numpy lift of every valid pixel."""
    h, w = depth.shape
    rows, cols = np.nonzero(depth > 0)
    z = depth[rows, cols].astype(np.float64)
    cam = np.stack([(cols + 0.5 - intr.cx) / intr.fx * z, (rows + 0.5 - intr.cy) / intr.fy * z,
                    z], axis=1)
    return (cam @ c2w[:3, :3].T + c2w[:3, 3]).astype(np.float32)


def scene_depth(name: str, intr: Intrinsics, rng: np.random.Generator) -> np.ndarray:
    if name == "noise":
        return rng.uniform(2.0, 10.0, (intr.height, intr.width)).astype(np.float32)
    v = np.arange(intr.height, dtype=np.float64)[:, None] + 0.5
    yn = (v - intr.cy) / intr.fy
    floor = np.where(yn > 1e-6, 1.5 / np.maximum(yn, 1e-6), np.inf)
    return np.broadcast_to(np.minimum(4.0, floor), (intr.height, intr.width)).astype(np.float32)


def stats(ms: list[float]) -> dict:
    t = np.array(ms)
    return {"median_ms": float(np.median(t)), "p95_ms": float(np.percentile(t, 95)),
            "max_ms": float(t.max()), "count": len(ms)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--views", type=int, default=30)
    ap.add_argument("--skip", type=int, default=8, help="growth adds reported separately")
    ap.add_argument("--max-points", type=int, default=2_000_000)
    ap.add_argument("--voxel-size", type=float, default=0.02)
    ap.add_argument("--json", metavar="PATH")
    args = ap.parse_args()

    warmup()
    intr = Intrinsics.from_horizontal_fov(90.0, 512, 512)
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (512, 512, 3), dtype=np.uint8)
    results = {}
    for name in ("room", "noise"):
        depth = scene_depth(name, intr, rng)
        mem = SceneMemory(voxel_size=args.voxel_size, max_points=args.max_points)
        adds, base, added = [], [], []
        for i in range(args.views):
            c2w = np.eye(4)
            c2w[0, 3] = 0.25 * i
            t0 = time.perf_counter()
            numpy_unproject(depth, intr, c2w)
            t1 = time.perf_counter()
            added.append(mem.add_view(rgb, depth, intr, c2w))
            t2 = time.perf_counter()
            base.append((t1 - t0) * 1e3)
            adds.append((t2 - t1) * 1e3)
        results[name] = {
            "add_view_steady": stats(adds[args.skip:]),
            "add_view_growth": stats(adds[:args.skip]),
            "baseline_numpy_unproject": stats(base[args.skip:]),
            "points_added_median": float(np.median(added[args.skip:])),
            "final_points": mem.num_points,
            "final_views": mem.num_views,
        }
    print(f"SceneMemory.add_view, 512x512 keyframes, voxel {args.voxel_size} m, "
          f"max_points {args.max_points:,}, {args.views} views ({args.skip} growth adds apart)")
    print(f"{'scene':6s} {'case':28s} {'median ms':>10s} {'p95 ms':>9s} {'max ms':>9s}")
    for name, r in results.items():
        for case in ("baseline_numpy_unproject", "add_view_steady", "add_view_growth"):
            s = r[case]
            print(f"{name:6s} {case:28s} {s['median_ms']:10.2f} {s['p95_ms']:9.2f} "
                  f"{s['max_ms']:9.2f}")
        ratio = r["baseline_numpy_unproject"]["median_ms"] / r["add_view_steady"]["median_ms"]
        print(f"{name:6s} points added per view (median) {r['points_added_median']:.0f}, "
              f"final {r['final_points']:,} points in {r['final_views']} views; "
              f"full add vs numpy unprojection alone: {ratio:.2f}x")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"benchmark": "scene_memory_add_view", "args": vars(args),
                       "results": results}, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
