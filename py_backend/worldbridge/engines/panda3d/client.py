"""A real engine client: Panda3D rendering offscreen on Mesa's software EGL.

This client plays the part of a game engine. :class:`PandaEngine` renders the garden (or any
:class:`SceneLayout`) offscreen, reads back colour and an exact float depth buffer, and the
client streams the camera poses, with the engine's depth, to a WorldBridge server. The frames
that come back are shown beside the engine's own view::

    python -m worldbridge.engines.panda3d --server 127.0.0.1:50051 --frames 48 \\
        --out out/preview.png --video out/preview.mp4
    python -m worldbridge.engines.panda3d --server 127.0.0.1:50051 --record garden_walk

(``examples/panda3d_engine.py`` of a source checkout runs the same.) Setup (Debian/Ubuntu,
no display, no GPU needed)::

    apt-get install -y libegl1 libegl-mesa0 libgl1-mesa-dri    # Mesa EGL + llvmpipe
    pip install 'worldbridge[engine]'                           # Panda3D 1.10.16
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from worldbridge.client import BridgeClient, CapturedView, PoseRequest, ReferenceView
from worldbridge.engines.panda3d.engine import PandaEngine, wire_depth
from worldbridge.engines.panda3d.paths import PATH_KINDS, camera_path
from worldbridge.geometry import Convention

__all__ = ["main"]


def _label(img: np.ndarray, text: str) -> np.ndarray:
    import cv2
    out = np.ascontiguousarray(img).copy()
    cv2.rectangle(out, (0, 0), (min(out.shape[1], 10 + 9 * len(text)), 22), (0, 0, 0), -1)
    cv2.putText(out, text, (5, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                cv2.LINE_AA)
    return out


def _side_by_side(engine_rgb: np.ndarray, frame_rgb: np.ndarray | None, i: int,
                  note: str = "") -> np.ndarray:
    import cv2
    h, w = engine_rgb.shape[:2]
    if frame_rgb is None:
        frame_rgb = np.zeros_like(engine_rgb)
    elif frame_rgb.shape[:2] != (h, w):
        frame_rgb = cv2.resize(frame_rgb, (w, h), interpolation=cv2.INTER_LINEAR)
    left = _label(engine_rgb, f"engine #{i}")
    right = _label(frame_rgb, f"worldbridge #{i}{note}")
    return np.concatenate([left, np.full((h, 4, 3), 255, np.uint8), right], axis=1)


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else float("nan")


def _parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--server", default="127.0.0.1:50051", help="host:port of `worldbridge serve`")
    p.add_argument("--token", default=None, help="bearer token, if the server wants one")
    p.add_argument("--frames", type=int, default=48, help="poses along the camera path")
    p.add_argument("--size", type=int, default=512, help="square image size in pixels")
    p.add_argument("--fov", type=float, default=60.0, help="vertical field of view, degrees")
    p.add_argument("--path", choices=PATH_KINDS, default="orbit", help="camera path")
    p.add_argument("--out", default="out/preview.png", help="side-by-side strip image")
    p.add_argument("--video", default=None, help="side-by-side mp4 (OpenCV VideoWriter)")
    p.add_argument("--generator", default="anchor", help="frame generator on the server")
    p.add_argument("--rows", type=int, default=4, help="rows in the strip image")
    p.add_argument("--references", type=int, default=1,
                   help="reference views (RGB-D) that build the session's world: the first "
                        "pose, and with N > 1, N poses spread evenly along the path")
    p.add_argument("--keyframe-every", type=int, default=0, metavar="N",
                   help="every N-th pose is a keyframe: the returned frame is lifted into the "
                        "session's memory with the engine's depth and becomes a reference view "
                        "(0: none)")
    p.add_argument("--record", default=None, metavar="NAME",
                   help="record the rendered trajectory as dataset NAME instead of streaming")
    p.add_argument("--timeout", type=float, default=10.0, help="client call timeout, seconds")
    args = p.parse_args(argv)
    if args.frames < 1 or args.size < 16 or args.rows < 1 or args.references < 1 \
            or args.keyframe_every < 0:
        p.error(f"need --frames >= 1, --size >= 16, --rows >= 1, --references >= 1, "
                f"--keyframe-every >= 0 (got {args.frames}, {args.size}, {args.rows}, "
                f"{args.references}, {args.keyframe_every})")
    return args


def main(argv: Sequence[str] | None = None) -> dict:
    """Command line entry point; see the module docstring.

    Returns:
        Stats of the run. Streaming: ``frames`` (received without error), ``fps`` (frames
        over the wall time of the stream, engine rendering included), ``latency_median_ms``
        and ``latency_p95_ms`` (end to end, the client's round trip from handing the request
        to gRPC to the decoded frame), ``render_median_ms`` (engine), ``skipped``, ``errors``.
        Recording: ``frames``, ``frames_written``, ``path``, ``render_median_ms``.
    """
    args = _parse_args(argv)
    poses = camera_path(args.frames, args.path)
    render_ms: list[float] = []
    with PandaEngine(args.size, args.size, fov_y_deg=args.fov) as engine:
        K = engine.intrinsics()
        print(f"panda3d engine: {engine.renderer}, {args.size}x{args.size}, "
              f"{args.frames} poses ({args.path})", flush=True)

        def timed_render(c2w):
            t0 = time.perf_counter()
            out = engine.render(c2w)
            render_ms.append((time.perf_counter() - t0) * 1e3)
            return out

        with BridgeClient(args.server, token=args.token, timeout_s=args.timeout) as client:
            if args.record:
                return _record(client, args, poses, timed_render, K, render_ms)
            return _stream(client, args, poses, timed_render, K, render_ms)



def _record(client, args, poses, timed_render, K, render_ms) -> dict:
    def views() -> Iterator:
        for c2w in poses:
            rgb, depth = timed_render(c2w)
            yield CapturedView(rgb=rgb, depth=wire_depth(depth), c2w=c2w,
                               convention=Convention.OPENGL, intrinsics=K)

    summary = client.record(args.record, views())
    stats = {"frames": len(poses), "frames_written": int(summary.frames_written),
             "path": str(summary.path), "render_median_ms": _percentile(render_ms, 50)}
    print(f"recorded {stats['frames_written']} frames to {stats['path']} "
          f"(render median {stats['render_median_ms']:.1f} ms/frame)")
    return stats


def _stream(client, args, poses, timed_render, K, render_ms) -> dict:
    import cv2

    # Reference views: the first pose, plus (--references N) poses spread along the path.
    ref_idx = sorted({int(round(x)) for x in np.linspace(0, len(poses) - 1, args.references)})
    views = []
    for i in ref_idx:
        ref_rgb, ref_depth = timed_render(poses[i])
        views.append(ReferenceView(rgb=ref_rgb, depth=wire_depth(ref_depth), c2w=poses[i],
                                   convention=Convention.OPENGL, intrinsics=K))
    session = client.open_session(views=views, generator=args.generator, width=args.size,
                                  height=args.size)
    render_ms.clear()  # report the per-frame render time of the stream only

    engine_views: list[np.ndarray] = []
    yielded_at: dict[int, float] = {}

    def requests() -> Iterator:
        for i, c2w in enumerate(poses):
            rgb, depth = timed_render(c2w)
            engine_views.append(rgb)
            yielded_at[i] = time.perf_counter()
            n = args.keyframe_every
            yield PoseRequest(c2w=c2w, convention=Convention.OPENGL, intrinsics=K,
                              depth=wire_depth(depth), keyframe=n > 0 and i % n == n - 1)

    writer = None
    if args.video:
        Path(args.video).parent.mkdir(parents=True, exist_ok=True)
        writer = cv2.VideoWriter(args.video, cv2.VideoWriter_fourcc(*"mp4v"), 12.0,  # type: ignore[attr-defined]
                                 (2 * args.size + 4, args.size))
        if not writer.isOpened():
            print(f"warning: OpenCV cannot write {args.video}; no video", file=sys.stderr)
            writer = None

    returned: dict[int, np.ndarray] = {}
    coverage: list[float] = []
    latency_ms: list[float] = []
    skipped: set[int] = set()
    errors: list[str] = []
    t_start = time.perf_counter()
    try:
        for frame in session.stream(requests(), lockstep=True):
            now = time.perf_counter()
            seq = int(frame.sequence)
            skipped.update(int(s) for s in (frame.skipped or ()))
            if frame.error:
                errors.append(f"#{seq}: {frame.error}")
                print(f"frame #{seq}: error: {frame.error}", file=sys.stderr)
                continue
            # End to end as the engine sees it: the client's round trip (request handed to
            # gRPC -> frame decoded), which includes transport, queueing, generation and
            # texture encoding/decoding. Fallback (a client without it): from our yield, which
            # in lockstep mode also counts the wait for the previous frame.
            rt = (frame.timings_ms or {}).get("round_trip")
            if rt is not None:
                latency_ms.append(float(rt))
            elif seq in yielded_at:
                latency_ms.append((now - yielded_at[seq]) * 1e3)
            returned[seq] = frame.rgb
            coverage.append(float(frame.coverage))
            if writer is not None and 0 <= seq < len(engine_views):
                writer.write(cv2.cvtColor(_side_by_side(engine_views[seq], frame.rgb, seq),
                                          cv2.COLOR_RGB2BGR))
    finally:
        elapsed = time.perf_counter() - t_start
        if writer is not None:
            writer.release()
        session.close()

    n_rows = min(args.rows, len(engine_views))
    # rows between the reference views, so the strip shows novel poses
    picks = sorted({int(round(x)) for x in np.linspace(0, len(engine_views) - 1, n_rows + 2)[1:-1]})
    refs = set(ref_idx)
    rows = [_side_by_side(engine_views[i], returned.get(i), i,
                          " (none)" if i not in returned else " (reference)" if i in refs else "")
            for i in picks]
    if rows:
        sep = np.full((4, rows[0].shape[1], 3), 255, np.uint8)
        strip = rows[0]
        for r in rows[1:]:
            strip = np.concatenate([strip, sep, r], axis=0)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        if not cv2.imwrite(args.out, cv2.cvtColor(strip, cv2.COLOR_RGB2BGR)):
            print(f"warning: could not write {args.out}", file=sys.stderr)

    stats = {
        "frames": len(returned),
        "fps": len(returned) / elapsed if elapsed > 0 else float("nan"),
        "latency_median_ms": _percentile(latency_ms, 50),
        "latency_p95_ms": _percentile(latency_ms, 95),
        "render_median_ms": _percentile(render_ms, 50),
        "skipped": len(skipped),
        "errors": len(errors),
        "coverage_mean": float(np.mean(coverage)) if coverage else float("nan"),
    }
    print(f"{stats['frames']} frames in {elapsed:.2f} s: {stats['fps']:.2f} frames/s (including "
          f"engine render, median {stats['render_median_ms']:.1f} ms); end-to-end latency "
          f"median {stats['latency_median_ms']:.1f} ms, p95 {stats['latency_p95_ms']:.1f} ms; "
          f"{stats['skipped']} skipped, {stats['errors']} errors")
    print(f"wrote {args.out}" + (f" and {args.video}" if writer is not None else ""))
    return stats


if __name__ == "__main__":
    main()
