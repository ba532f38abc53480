"""Record synthetic training trajectories from the Panda3D garden into a WorldBridge server.

The synthetic-data recipe of InSpatio-WorldFM section 2.4.2 with the bundled Panda3D
engine (``examples/panda3d_engine.py``) in place of Unreal: camera paths from motion
templates (orbits at several radii and heights, dollies, walks) and random smooth paths
(:mod:`worldbridge.recording.trajectory_planner`), kept collision-free by a simple check
(inside the clearing, above the ground, clear of the panda and the teapot); every frame's
RGB and exact depth are streamed through ``RecordTrajectory`` into one dataset per path::

    python examples/record_training_data.py --out data/garden --trajectories 8 --frames 48
    python examples/record_training_data.py --server 127.0.0.1:50051 --trajectories 16

Without ``--server`` a local ``worldbridge serve`` is started with ``--data-dir OUT`` and
stopped at the end; with ``--server`` the datasets land in that server's data directory.
Then train on them::

    from worldbridge.training import ClipDataset, ClipSpec
    clips = ClipDataset(sorted(Path("data/garden").iterdir()), ClipSpec(image_size=256))

The engine's sky (nothing drawn) is sent as +inf depth and stored as 0 (the recording
format keeps millimetres only); ``ClipSpec(zero_depth_is_sky=True)`` lifts it as far-away
sky, as serving does with +inf.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent
if str(_HERE.parent / "py_backend") not in sys.path:  # run from a checkout without install
    sys.path.insert(0, str(_HERE.parent / "py_backend"))

from worldbridge.client import BridgeClient, CapturedView  # noqa: E402
from worldbridge.geometry import Convention  # noqa: E402
from worldbridge.recording import trajectory_planner as planner  # noqa: E402

__all__ = ["is_free", "plan_trajectories", "main", "CLEARING_RADIUS_M", "KINDS"]

CLEARING_RADIUS_M = 5.5
"""Cameras stay within this horizontal distance of the clearing's centre (the bamboo ring
is about 7.5 m away), metres."""

MIN_HEIGHT_M, MAX_HEIGHT_M = 0.4, 3.0
"""Camera height range above the ground (z = 0), metres."""

OBSTACLES = (((0.0, 0.5), 1.0), ((-1.6, -1.4), 0.7))
"""``((x, y), radius)`` vertical cylinders the camera keeps out of: the panda, the teapot."""

KINDS = ("orbit", "dolly", "walk", "random")
"""Trajectory kinds, used in turn."""

_UP = (0.0, 0.0, 1.0)  # Panda3D's world is Z up; poses are OpenGL camera-to-world


def _load_engine_module():
    name = "worldbridge_example_panda3d_engine"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, _HERE / "panda3d_engine.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def is_free(p: np.ndarray) -> bool:
    """The collision check: inside the clearing, within the height range, off the props.

    Args:
        p: ``[3]`` camera position, Panda world (Z up), metres.
    """
    x, y, z = (float(v) for v in p)
    if math.hypot(x, y) > CLEARING_RADIUS_M or not MIN_HEIGHT_M <= z <= MAX_HEIGHT_M:
        return False
    return all(math.hypot(x - cx, y - cy) > r for (cx, cy), r in OBSTACLES)


def _all_free(poses: Sequence[np.ndarray]) -> bool:
    return all(is_free(c2w[:3, 3]) for c2w in poses)


def _random_point(rng: np.random.Generator, z: float) -> np.ndarray:
    r = CLEARING_RADIUS_M * math.sqrt(rng.random())
    a = rng.uniform(0, 2 * math.pi)
    return np.array([r * math.cos(a), r * math.sin(a), z])


def _orbit(rng, n):
    radius = rng.uniform(2.0, 5.0)
    height = rng.uniform(0.6, 2.6)
    arc = rng.uniform(40.0, 100.0) * rng.choice([-1, 1])
    target = (rng.uniform(-0.3, 0.3), rng.uniform(0.2, 0.8), rng.uniform(0.4, 1.0))
    return planner.orbit((0.0, 0.0, 0.0), radius, height, rng.uniform(0, 360), arc, n,
                         look_at=target, up=_UP, convention="opengl")


def _dolly(rng, n):
    start = _random_point(rng, rng.uniform(0.8, 2.4))
    heading = rng.uniform(0, 2 * math.pi)
    length = rng.uniform(1.5, 3.5)
    end = start + length * np.array([math.cos(heading), math.sin(heading), 0.0])
    end[2] = np.clip(end[2] + rng.uniform(-0.5, 0.5), MIN_HEIGHT_M + 0.2, MAX_HEIGHT_M - 0.2)
    if rng.random() < 0.5:  # a push along the track, looking slightly down
        d = (end - start) / np.linalg.norm(end - start)
        direction = d + np.array([0.0, 0.0, -rng.uniform(0.05, 0.35)])
        return planner.dolly(start, end, n, direction=direction, ease=True, up=_UP,
                             convention="opengl")
    return planner.dolly(start, end, n, look_at=(0.0, 0.5, 0.7), up=_UP, convention="opengl")


def _walk(rng, n):
    waypoints = [_random_point(rng, 0.0)]
    heading = rng.uniform(0, 2 * math.pi)
    for _ in range(3):
        heading += rng.uniform(-0.8, 0.8)
        step = rng.uniform(1.2, 2.2)
        waypoints.append(waypoints[-1] + step * np.array([math.cos(heading),
                                                          math.sin(heading), 0.0]))
    return planner.walk(waypoints, n, eye_height=rng.uniform(1.3, 1.8),
                        pitch_deg=rng.uniform(-15.0, 0.0), sway_deg=rng.uniform(0.0, 12.0),
                        sway_cycles=rng.uniform(0.5, 1.5), up=_UP, convention="opengl")


def _random(rng, n):
    r = CLEARING_RADIUS_M
    bounds = [[-r, -r, MIN_HEIGHT_M], [r, r, MAX_HEIGHT_M]]
    return planner.random_trajectories(bounds, 1, n, rng, is_free, up=_UP,
                                       convention="opengl")[0]


_MAKERS: dict[str, Callable] = {"orbit": _orbit, "dolly": _dolly, "walk": _walk,
                                "random": _random}


def plan_trajectories(count: int, frames: int, rng: np.random.Generator,
                      max_tries: int = 200) -> list[tuple[str, list[np.ndarray]]]:
    """Collision-free camera paths through the garden, the kinds of :data:`KINDS` in turn.

    Args:
        count: number of paths.
        frames: poses per path (>= 2).
        rng: the only source of randomness.
        max_tries: draws per path before giving up.

    Returns:
        ``(kind, poses)`` per path; poses are ``[4, 4]`` float64 OpenGL camera-to-world
        matrices in Panda's Z-up world, metres (what :class:`PandaEngine` renders).

    Raises:
        RuntimeError: no free path of a kind in ``max_tries`` draws.
    """
    out = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        for _ in range(max_tries):
            poses = _MAKERS[kind](rng, frames)
            if _all_free(poses):
                out.append((kind, poses))
                break
        else:
            raise RuntimeError(f"no collision-free {kind} path in {max_tries} draws")
    return out


def _parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="data/garden",
                   help="data directory of the local server started when --server is not given")
    p.add_argument("--server", default=None, help="host:port of a running `worldbridge serve`")
    p.add_argument("--token", default=None, help="bearer token, if the server wants one")
    p.add_argument("--trajectories", type=int, default=8, help="number of camera paths")
    p.add_argument("--frames", type=int, default=48, help="frames per path")
    p.add_argument("--size", type=int, default=256, help="square image size, pixels")
    p.add_argument("--fov", type=float, default=60.0, help="vertical field of view, degrees")
    p.add_argument("--seed", type=int, default=0, help="seed of the random paths")
    p.add_argument("--prefix", default="garden", help="dataset names: PREFIX_000_orbit, ...")
    args = p.parse_args(argv)
    if args.trajectories < 1 or args.frames < 2 or args.size < 16:
        p.error(f"need --trajectories >= 1, --frames >= 2, --size >= 16 (got "
                f"{args.trajectories}, {args.frames}, {args.size})")
    return args


def main(argv: Sequence[str] | None = None) -> dict:
    """Command line entry point; see the module docstring.

    Returns:
        ``datasets`` (the server-side paths), ``frames`` (frames written in all),
        ``rejected`` (frames the server refused), ``seconds`` and ``frames_per_s``.
    """
    args = _parse_args(argv)
    engine_mod = _load_engine_module()
    paths = plan_trajectories(args.trajectories, args.frames, np.random.default_rng(args.seed))
    proc = None
    target = args.server
    if target is None:
        from worldbridge.demo import start_server_process

        Path(args.out).mkdir(parents=True, exist_ok=True)
        proc, port = start_server_process(["--data-dir", str(Path(args.out).resolve())])
        target = f"127.0.0.1:{port}"
    stats = {"datasets": [], "frames": 0, "rejected": 0}
    t0 = time.perf_counter()
    try:
        with engine_mod.PandaEngine(args.size, args.size, fov_y_deg=args.fov) as engine, \
                BridgeClient(target, token=args.token, timeout_s=30.0) as client:
            k = engine.intrinsics()
            print(f"panda3d engine {engine.renderer}, {args.size}x{args.size}; server {target}",
                  flush=True)
            for i, (kind, poses) in enumerate(paths):
                def views(poses=poses) -> Iterator[CapturedView]:
                    for c2w in poses:
                        rgb, depth = engine.render(c2w)
                        yield CapturedView(rgb=rgb, depth=engine_mod.wire_depth(depth), c2w=c2w,
                                           convention=Convention.OPENGL, intrinsics=k)

                name = f"{args.prefix}_{i:03d}_{kind}"
                result = client.record(name, views(),
                                        description=f"panda3d garden, {kind} path, seed "
                                                    f"{args.seed}")
                stats["datasets"].append(str(result.path))
                stats["frames"] += int(result.frames_written)
                stats["rejected"] += len(result.rejected)
                print(f"  {name}: {result.frames_written} frames -> {result.path}", flush=True)
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
    stats["seconds"] = time.perf_counter() - t0
    stats["frames_per_s"] = stats["frames"] / stats["seconds"]
    print(f"recorded {stats['frames']} frames in {len(paths)} datasets in "
          f"{stats['seconds']:.1f} s ({stats['frames_per_s']:.1f} frames/s); "
          f"{stats['rejected']} rejected")
    return stats


if __name__ == "__main__":
    main()
