#!/usr/bin/env python3
"""Recording throughput through the bridge: engine client -> RecordTrajectory -> dataset.

Streams 512x512 RGB (raw RGB8) + float32 depth frames from a client process to a real
gateway (grpc.aio) that writes them with the DatasetWriter, and measures frames/s from the
first frame sent to the summary received (every frame on disk), then checks the files.
Baseline in the same run: the DatasetWriter alone, fed the same frames in-process.

Usage: python benchmarks/bench_record_rpc.py [--frames 300] [--size 512] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from worldbridge.client import BridgeClient, CapturedView
from worldbridge.demo import start_server_process
from worldbridge.geometry import Convention, Intrinsics
from worldbridge.recording import DatasetWriter, load_dataset

sys.path.insert(0, str(Path(__file__).parent))
from bench_recording import make_frames  # noqa: E402  (same synthetic content)


def views(frames, n: int, k: Intrinsics):
    for i in range(n):
        rgb, depth = frames[i % len(frames)]
        c2w = np.eye(4)
        c2w[0, 3] = 0.01 * i
        yield CapturedView(rgb=rgb, depth=depth, c2w=c2w, convention=Convention.OPENCV, intrinsics=k)


def direct(root: Path, frames, n: int, k: Intrinsics) -> float:
    t = time.perf_counter()
    with DatasetWriter(root, "direct") as w:
        for v in views(frames, n, k):
            w.add_frame(v.rgb, v.depth, k, v.c2w, v.c2w, Convention.OPENCV, 0, 0)
    return n / (time.perf_counter() - t)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--json", type=Path)
    a = p.parse_args(argv)
    k = Intrinsics.from_vertical_fov(60, a.size, a.size)
    frames = make_frames(a.size, "scene")
    root = Path(tempfile.mkdtemp(prefix="wb-bench-"))
    base = direct(root, frames, a.frames, k)
    proc, port = start_server_process(["--data-dir", str(root)])
    try:
        with BridgeClient(f"127.0.0.1:{port}") as c:
            c.record("warmup", views(frames, 20, k))
            t = time.perf_counter()
            summary = c.record("bridge", views(frames, a.frames, k))
            fps = a.frames / (time.perf_counter() - t)
    finally:
        proc.terminate()
        proc.wait(30)
    ds = load_dataset(root / "bridge")
    on_disk = sum(1 for f in ds if f.rgb_path.exists() and f.depth_path.exists())
    res = {"size": a.size, "frames": a.frames, "direct_fps": base, "bridge_fps": fps,
           "frames_written": summary.frames_written, "frames_on_disk": on_disk,
           "ratio": fps / base}
    print(f"{a.frames} frames of {a.size}x{a.size} RGB + depth")
    print(f"DatasetWriter in-process (baseline): {base:7.1f} frames/s")
    print(f"through gRPC RecordTrajectory:       {fps:7.1f} frames/s ({res['ratio']:.2f}x), "
          f"{on_disk}/{a.frames} frames on disk (target >= 60 frames/s, none dropped)")
    if a.json:
        a.json.write_text(json.dumps(res, indent=2))
    return 0 if on_disk == a.frames else 1


if __name__ == "__main__":
    sys.exit(main())
