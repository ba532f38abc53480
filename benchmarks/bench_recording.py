"""Sustained recording throughput: DatasetWriter vs synchronous PNG writes.

Each variant records ``--frames`` frames of ``--size`` x ``--size`` RGB + depth in a fresh
child process (clean peak memory), after a warm-up recording of ``--warmup`` frames, and
``--repeats`` times. Throughput is frames divided by the time from the first frame handed
over to the last one on disk (``close()`` returned): the queue is drained, nothing is
dropped, and the file count is checked.

Variants:

* ``pillow-sync`` (the baseline): one thread, ``PIL.Image.save`` with Pillow's default PNG
  settings for the RGB and the uint16 millimetre depth, nothing else.
* ``opencv-sync``: one thread, worldbridge's tuned OpenCV PNG settings, no thread pool
  (separates the codec's share of the speed-up from the threads').
* ``worldbridge``: :class:`worldbridge.recording.DatasetWriter` (threads, journal, atomic
  renames, transforms.json rewrites).

Content ``scene`` is a synthetic rendered-looking frame (flat-shaded polygons over a sky
gradient, +-2 levels of noise, planar depth with sky = 0); ``noise`` is uniform random
RGB and depth, the worst case for PNG.

Usage::

    python benchmarks/bench_recording.py [--frames 300] [--size 512] [--repeats 3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

VARIANTS = ("pillow-sync", "opencv-sync", "worldbridge")


def make_frames(size: int, content: str, count: int = 8) -> list[tuple[np.ndarray, np.ndarray]]:
    """``count`` distinct (rgb [S, S, 3] uint8, depth [S, S] float32 metres) frames."""
    import cv2

    rng = np.random.default_rng(0)
    frames = []
    for _ in range(count):
        if content == "noise":
            rgb = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            depth = rng.uniform(0.1, 60.0, (size, size)).astype(np.float32)
        else:
            yy, _ = np.mgrid[0:size, 0:size]
            rgb = np.stack([100 + 0.2 * yy, 150 + 0.1 * yy, 230 - 0.1 * yy], -1)
            rgb = np.clip(rgb, 0, 255).astype(np.uint8)
            depth = np.zeros((size, size), np.float32)
            horizon = size // 3
            rows = np.arange(horizon, size, dtype=np.float32)
            depth[horizon:] = (2.0 + 60.0 * (size - rows) / size)[:, None]  # ground plane
            for _ in range(40):
                pts = rng.integers(0, size, (3, 2)).astype(np.int32)
                cv2.fillPoly(rgb, [pts], tuple(int(c) for c in rng.integers(0, 255, 3)))
                cv2.fillPoly(depth, [pts], float(rng.uniform(1.0, 40.0)))
            rgb = np.clip(rgb.astype(np.int16) + rng.integers(-2, 3, rgb.shape), 0, 255)
            rgb = rgb.astype(np.uint8)
        frames.append((rgb, depth))
    return frames


def _record(variant: str, out: Path, frames, n: int) -> list[float]:
    """Record ``n`` frames; returns per-frame caller latencies (s) and the total time last."""
    from worldbridge.geometry import Convention, Intrinsics

    size = frames[0][0].shape[0]
    intr = Intrinsics.from_horizontal_fov(90.0, size, size)
    pose = np.eye(4)
    lat = []
    if variant == "worldbridge":
        from worldbridge.recording import DatasetWriter

        start = time.perf_counter()
        with DatasetWriter(out.parent, out.name) as writer:
            for i in range(n):
                rgb, depth = frames[i % len(frames)]
                t = time.perf_counter()
                writer.add_frame(rgb, depth, intr, pose, pose, Convention.OPENCV, i, i)
                lat.append(time.perf_counter() - t)
        return lat + [time.perf_counter() - start]
    (out / "images").mkdir(parents=True)
    (out / "depth").mkdir()
    if variant == "pillow-sync":
        from PIL import Image

        start = time.perf_counter()
        for i in range(n):
            rgb, depth = frames[i % len(frames)]
            t = time.perf_counter()
            Image.fromarray(rgb).save(out / "images" / f"frame_{i:05d}.png")
            mm = np.where(np.isfinite(depth), np.round(depth * 1000.0), 0)
            mm = np.where(mm > 65535, 0, mm).astype(np.uint16)
            Image.fromarray(mm).save(out / "depth" / f"frame_{i:05d}.png")
            lat.append(time.perf_counter() - t)
        return lat + [time.perf_counter() - start]
    if variant == "opencv-sync":
        import cv2

        from worldbridge.recording.png_codec import encode_depth_png, encode_rgb_png

        start = time.perf_counter()
        for i in range(n):
            rgb, depth = frames[i % len(frames)]
            t = time.perf_counter()
            (out / "images" / f"frame_{i:05d}.png").write_bytes(
                encode_rgb_png(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)))
            (out / "depth" / f"frame_{i:05d}.png").write_bytes(encode_depth_png(depth)[0])
            lat.append(time.perf_counter() - t)
        return lat + [time.perf_counter() - start]
    raise ValueError(f"unknown variant {variant!r}")


def _busy_cpu_seconds() -> float | None:
    """CPU seconds all processes spent busy since boot (Linux ``/proc/stat``), else None."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def run_child(variant: str, content: str, size: int, n: int, warmup: int, workdir: Path) -> dict:
    """One timed recording (after a warm-up one) in this process; returns its measurements."""
    frames = make_frames(size, content)
    if warmup:
        _record(variant, workdir / "warmup", frames, warmup)
    out = workdir / "timed"
    busy0, own0 = _busy_cpu_seconds(), _own_cpu_seconds()
    times = _record(variant, out, frames, n)
    busy1, own1 = _busy_cpu_seconds(), _own_cpu_seconds()
    # CPU the rest of the machine used meanwhile, in cores: > ~0.2 means the numbers are low.
    others = None if busy0 is None else max(0.0, (busy1 - busy0) - (own1 - own0)) / times[-1]
    total, lat = times[-1], np.array(times[:-1]) * 1000.0
    images = len(list((out / "images").glob("frame_*.png")))
    depths = len(list((out / "depth").glob("frame_*.png")))
    listed = n
    if variant == "worldbridge":
        from worldbridge.recording import load_dataset

        listed = len(load_dataset(out))
    size_bytes = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    return {
        "variant": variant, "content": content, "frames": n, "seconds": total,
        "fps": n / total, "call_ms_p50": float(np.median(lat)),
        "call_ms_p95": float(np.percentile(lat, 95)),
        "mb_per_frame": size_bytes / n / 1e6,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "complete": images == n and depths == n and listed == n,
        "own_cpu_cores": (own1 - own0) / times[-1],
        "other_cpu_cores": others,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--size", type=int, default=512)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=20)
    p.add_argument("--content", choices=["scene", "noise", "both"], default="both")
    p.add_argument("--variants", default=",".join(VARIANTS))
    p.add_argument("--dir", type=Path, default=None, help="scratch directory (default: a temp dir)")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.add_argument("--_child", nargs=2, metavar=("VARIANT", "CONTENT"), help=argparse.SUPPRESS)
    args = p.parse_args()

    if args._child:
        workdir = Path(tempfile.mkdtemp(dir=args.dir))
        try:
            result = run_child(args._child[0], args._child[1], args.size, args.frames,
                               args.warmup, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        print(json.dumps(result))
        return

    contents = ["scene", "noise"] if args.content == "both" else [args.content]
    variants = [v for v in args.variants.split(",") if v]
    rows = []
    for content in contents:
        for variant in variants:
            runs = []
            for _ in range(args.repeats):
                cmd = [sys.executable, __file__, "--_child", variant, content,
                       "--frames", str(args.frames), "--size", str(args.size),
                       "--warmup", str(args.warmup)]
                if args.dir:
                    cmd += ["--dir", str(args.dir)]
                res = subprocess.run(cmd, capture_output=True, text=True, check=True)
                runs.append(json.loads(res.stdout.strip().splitlines()[-1]))
            fps = [r["fps"] for r in runs]
            med = sorted(runs, key=lambda r: r["fps"])[len(runs) // 2]
            rows.append({**med, "fps": statistics.median(fps), "fps_min": min(fps),
                         "fps_max": max(fps), "repeats": len(runs),
                         "other_cpu_cores_max": max((r["other_cpu_cores"] or 0.0)
                                                    for r in runs),
                         "complete": all(r["complete"] for r in runs)})
        base = next((r["fps"] for r in rows if r["content"] == content
                     and r["variant"] == "pillow-sync"), None)
        for r in rows:
            if r["content"] == content:
                r["speedup_vs_pillow_sync"] = r["fps"] / base if base else None

    cpu = platform.processor() or "?"
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in
                   Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    machine = {"python": platform.python_version(), "cpu_count": os.cpu_count(),
               "machine": platform.machine(), "cpu": cpu,
               "size": args.size, "frames": args.frames, "repeats": args.repeats}
    if args.json:
        print(json.dumps({"machine": machine, "results": rows}, indent=2))
        return
    print(f"recording {args.frames} frames of {args.size}x{args.size} RGB + depth, "
          f"{args.repeats} repeats, {os.cpu_count()} CPUs ({cpu}), Python {machine['python']}")
    hdr = (f"{'content':<7} {'variant':<12} {'fps med':>8} {'[min-max]':>14} {'x base':>7} "
           f"{'call p50':>9} {'call p95':>9} {'MB/frame':>9} {'peak RSS':>9} {'all on disk':>11} "
           f"{'cores':>5} {'others':>6}")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        rng = f"[{r['fps_min']:.0f}-{r['fps_max']:.0f}]"
        speedup = r["speedup_vs_pillow_sync"]
        speedup = f"{speedup:>6.2f}x" if speedup else f"{'-':>7}"
        print(f"{r['content']:<7} {r['variant']:<12} {r['fps']:>8.1f} {rng:>14} "
              f"{speedup} {r['call_ms_p50']:>7.2f}ms "
              f"{r['call_ms_p95']:>7.2f}ms {r['mb_per_frame']:>9.3f} "
              f"{r['peak_rss_mb']:>7.0f}MB {'yes' if r['complete'] else 'NO':>11} "
              f"{r['own_cpu_cores']:>5.2f} {r['other_cpu_cores_max']:>6.2f}")
    print("fps: frames / (first frame handed over -> last frame on disk); call: time the "
          "caller spends per frame (add_frame, or the whole synchronous write); cores: CPU the "
          "recorder used (median run); others: most CPU (cores) other processes used during "
          "a repeat (above ~0.2 they competed and the numbers are low)")


if __name__ == "__main__":
    main()
