#!/usr/bin/env python3
"""End-to-end latency and frame rate of the Panda3D demo (engine -> gRPC -> worker -> back).

Runs ``worldbridge demo`` (a real server subprocess with one worker, the Panda3D engine
rendering offscreen on Mesa's EGL, lockstep streaming with ground-truth depth) and compares
with the engine alone rendering the same path in the same run (the baseline: what the
engine's loop costs without the bridge).

Usage: python benchmarks/bench_demo.py [--frames 96] [--size 512] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from worldbridge.demo import run_demo
from worldbridge.engines import panda3d as mod


def engine_only(frames: int, size: int) -> dict:
    poses = mod.camera_path(frames, "orbit")
    with mod.PandaEngine(size, size) as eng:
        for p in poses[:5]:
            eng.render(p)
        ms = []
        t0 = time.perf_counter()
        for p in poses:
            t = time.perf_counter()
            eng.render(p)
            ms.append((time.perf_counter() - t) * 1e3)
        elapsed = time.perf_counter() - t0
    return {"fps": frames / elapsed, "render_median_ms": float(np.median(ms)),
            "render_p95_ms": float(np.percentile(ms, 95))}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=96)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--json", type=Path)
    a = p.parse_args(argv)
    base = engine_only(a.frames, a.size)
    out = Path(tempfile.mkdtemp()) / "preview.png"
    demo = run_demo(out=out, frames=a.frames, size=a.size)
    res = {"size": a.size, "frames": a.frames, "engine_only": base, "demo": demo,
           "fps_ratio": demo["fps"] / base["fps"]}
    print(f"\n{a.size}x{a.size}, {a.frames} frames, anchor generator, RGBA8, lockstep")
    print(f"engine alone:        {base['fps']:6.1f} frames/s (render median {base['render_median_ms']:.1f} ms)")
    print(f"engine + WorldBridge: {demo['fps']:6.1f} frames/s; end-to-end latency median "
          f"{demo['latency_median_ms']:.1f} ms, p95 {demo['latency_p95_ms']:.1f} ms "
          f"({res['fps_ratio']:.2f}x the engine-alone rate)")
    if a.json:
        a.json.write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
