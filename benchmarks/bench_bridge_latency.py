#!/usr/bin/env python3
"""Added latency of the bridge: one 512x512 RGBA frame through gRPC gateway + ZeroMQ worker
versus the same pipeline (anchor render, generator, RGBA8 encode) called in-process.

Both sides run in this process's machine in the same run; the ratio and difference are
what the transport (gRPC, protobuf, ZeroMQ, msgpack, the extra process hop) costs.

Usage: python benchmarks/bench_bridge_latency.py [--size 512] [--repeats 300] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from worldbridge.client import BridgeClient, PoseRequest, ReferenceView
from worldbridge.geometry import Convention, Intrinsics
from worldbridge.geometry.views import Camera, PosedView
from worldbridge.serving import ServerConfig
from worldbridge.serving.gateway.server import Gateway
from worldbridge.serving.worker.session import OutputSpec, WorkerSession
from worldbridge.wire.texture import TextureFormat


def scene(size: int):
    rng = np.random.default_rng(0)
    k = Intrinsics.from_vertical_fov(60.0, size, size)
    rgb = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    depth = np.full((size, size), 3.0, np.float32)
    return ReferenceView(rgb=rgb, depth=depth, c2w=np.eye(4), convention=Convention.OPENCV, intrinsics=k)


def poses(n: int):
    out = []
    for i in range(n):
        m = np.eye(4)
        m[0, 3] = 0.01 * np.sin(i / 10)  # small moves: every frame is a new render
        out.append(m)
    return out


def stats(ms: list[float]) -> dict:
    return {"median_ms": statistics.median(ms), "p95_ms": float(np.percentile(ms, 95)),
            "mean_ms": statistics.fmean(ms), "n": len(ms)}


def in_process(view, size: int, repeats: int, warmup: int) -> list[float]:
    sess = WorkerSession([PosedView(Camera(view.c2w, view.intrinsics), view.rgb, view.depth)], "anchor",
                         OutputSpec(size, size, TextureFormat.RGBA8, 1), seed=1)
    out = []
    for i, c2w in enumerate(poses(warmup + repeats)):
        t = time.perf_counter()
        sess.render(Camera(c2w, view.intrinsics))
        if i >= warmup:
            out.append((time.perf_counter() - t) * 1e3)
    return out


def through_bridge(view, size: int, repeats: int, warmup: int) -> tuple[list[float], list[float]]:
    loop = asyncio.new_event_loop()
    gw = Gateway(ServerConfig(port=0, workers=1, data_dir=Path(tempfile.mkdtemp())))
    ready = threading.Event()

    def run():
        asyncio.set_event_loop(loop)
        loop.run_until_complete(gw.start())
        ready.set()
        loop.run_forever()

    threading.Thread(target=run, daemon=True).start()
    ready.wait(120)
    try:
        with BridgeClient(f"127.0.0.1:{gw.port}") as c:
            s = c.open_session([view], width=size, height=size, texture_format=TextureFormat.RGBA8,
                               decode=False)
            rt, server = [], []
            for f in s.stream([PoseRequest(p, Convention.OPENCV) for p in poses(warmup + repeats)]):
                if f.sequence >= warmup:
                    rt.append(f.timings_ms["round_trip"])
                    server.append(f.timings_ms["anchor"] + f.timings_ms["model"] + f.timings_ms["encode"])
            s.close()
    finally:
        asyncio.run_coroutine_threadsafe(gw.stop(0.1), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
    return rt, server


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--repeats", type=int, default=300)
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--json", type=Path)
    a = p.parse_args(argv)
    view = scene(a.size)
    base = in_process(view, a.size, a.repeats, a.warmup)
    rt, pipeline = through_bridge(view, a.size, a.repeats, a.warmup)
    # per-frame added latency: client round trip minus the pipeline time the worker measured
    added = [r - w for r, w in zip(rt, pipeline)]
    res = {"size": a.size, "format": "RGBA8", "in_process": stats(base), "bridge_round_trip": stats(rt),
           "added_per_frame": stats(added),
           "added_median_diff_ms": statistics.median(rt) - statistics.median(base),
           "ratio_median": statistics.median(rt) / statistics.median(base)}
    print(f"{a.size}x{a.size} RGBA8, {a.repeats} frames after {a.warmup} warm-up")
    print(f"{'':28s}{'median ms':>10s}{'p95 ms':>10s}")
    for name, key in [("in-process pipeline", "in_process"), ("through gateway + worker", "bridge_round_trip"),
                      ("added (round trip - worker)", "added_per_frame")]:
        print(f"{name:28s}{res[key]['median_ms']:10.2f}{res[key]['p95_ms']:10.2f}")
    print(f"median(bridge) - median(in-process) = {res['added_median_diff_ms']:.2f} ms; "
          f"ratio {res['ratio_median']:.2f}x (target: <= 2 ms added)")
    if a.json:
        a.json.write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
