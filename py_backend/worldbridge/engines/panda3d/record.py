"""Record synthetic training trajectories from the Panda3D garden into a WorldBridge server.

The synthetic-data recipe of InSpatio-WorldFM section 2.4.2 with the bundled Panda3D
engine (:class:`PandaEngine`) in place of Unreal: camera paths from motion
templates (orbits at several radii and heights, dollies, walks) and random smooth paths
(:mod:`worldbridge.recording.trajectory_planner`), kept collision-free by a simple check
(inside the clearing, above the ground, clear of the props); every frame's RGB and exact
depth are streamed through ``RecordTrajectory`` into one dataset per path::

    worldbridge record --out data/garden --trajectories 8 --frames 48
    worldbridge record --server 127.0.0.1:50051 --trajectories 16

(``python -m worldbridge.engines.panda3d.record`` and ``examples/record_training_data.py``
of a source checkout take the same options.)

Varied scenes (:class:`SceneLayout`): ``--layouts N`` draws N garden
layouts, the garden at a random scale (``--scale-range``) and heading (``--heading``), with
the demo's panda and teapot or, with ``--random-props``, 2-5 random props from the wheel's
models (panda, teapot, smiley, frowney, box, jack) standing apart in the clearing;
trajectory i is filmed in layout ``FIRST + i % N`` (``--first-layout``), and its paths keep
out of that layout's props and inside its clearing. Layout j is drawn from
``numpy.random.default_rng([LAYOUT_SEED, j])``: the same index always gives the same
layout, whatever N is. Whole trajectories are the hold-out unit; a held-out set films
layouts whose indices the training set never used, with other path seeds::

    # training: layouts 0-47, one per trajectory
    worldbridge record --out data/train --trajectories 48 --frames 64 \\
        --size 128 --seed 0 --layouts 48 --random-props
    # held out, same distribution: layouts 48-55, other paths
    worldbridge record --out data/heldout_layouts --trajectories 8 \\
        --frames 64 --size 128 --seed 1 --layouts 8 --first-layout 48 --random-props \\
        --split heldout
    # held out, a new level (NEW_LEVEL: a garden 1.45x the default, turned 222 degrees,
    # with props never placed in training: the walking panda, a camera, a teapot on a box)
    worldbridge record --out data/new_level --trajectories 8 \\
        --frames 64 --size 128 --seed 2 --level new --split new-level

Every dataset's ``transforms.json`` records what was filmed under ``worldbridge.metadata``
(``load_dataset(path).info["metadata"]``): ``layout`` (:meth:`SceneLayout.to_dict`),
``layout_id``, ``kind``, ``seed``, ``split`` and the draw options. It is written after the
recording when the dataset folder is reachable from here (the local server, or a server
sharing the disk); ``--manifest FILE`` writes the same for every dataset into one JSON
file (keep it outside the data folder, whose sub-folders are the datasets).

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
import json
import math
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from worldbridge.client import BridgeClient, CapturedView
from worldbridge.engines.panda3d.engine import PandaEngine, wire_depth
from worldbridge.engines.panda3d.scene import (
    DEFAULT_LAYOUT,
    DEFAULT_PROPS,
    Clearing,
    Prop,
    SceneLayout,
    random_layout,
)
from worldbridge.geometry import Convention
from worldbridge.recording import trajectory_planner as planner
from worldbridge.recording import update_dataset_metadata

__all__ = ["is_free", "plan_trajectories", "main", "CLEARING_RADIUS_M", "KINDS", "Site",
           "LEGACY_SITE", "site_for_layout", "layout_for_index", "NEW_LEVEL"]

CLEARING_RADIUS_M = 5.5
"""Default scene (no ``--layouts``): cameras stay within this horizontal distance of the
world origin, metres. Kept so that seeds give the paths they always gave; but the clearing
(:meth:`SceneLayout.clearing`) is an ellipse about (2.43, -0.29) m whose edge is only 5.1 m
from the origin to the west, and this circle reaches up to 0.5 m past it there, where the
nearest rock's foot is 5.4 m from the origin (5 of the 1536 frames of ``--trajectories 24
--frames 64 --seed 1`` stand outside the clearing). Layouts use the clearing's ellipse,
see :func:`site_for_layout`."""

MIN_HEIGHT_M, MAX_HEIGHT_M = 0.4, 3.0
"""Camera height range above the ground (z = 0), metres."""

OBSTACLES = (((0.0, 0.5), 1.0), ((-1.6, -1.4), 0.7))
"""Default scene: ``((x, y), radius)`` vertical cylinders the camera keeps out of, the panda
and the teapot (metres)."""

WALL_MARGIN_M = 1.0
"""Layouts: cameras keep inside the clearing's ellipse with both semi-axes this much
shorter, metres."""

PROP_MARGIN_M = 0.3
"""Layouts: cameras keep this far from a prop's footprint cylinder, metres."""

KINDS = ("orbit", "dolly", "walk", "random")
"""Trajectory kinds, used in turn."""

NEW_LEVEL = SceneLayout(
    environment_scale=1.45, environment_heading_deg=222.0,
    props=(Prop("panda-model", 1.6, 1.4, heading_deg=150.0, scale=1.2),
           Prop("camera", -2.2, 2.4, heading_deg=-25.0, scale=1.3),
           Prop("box", -2.4, -1.6, heading_deg=12.0, scale=1.5),
           Prop("teapot", -2.4, -1.6, heading_deg=75.0, scale=0.5, z=1.2,
                color=(0.2, 0.45, 0.8)),
           Prop("smiley", 2.8, -2.2, heading_deg=200.0, scale=0.5)))
"""A held-out level: the garden 1.45x the default (training draws 0.75-1.25x), turned 222
degrees, with a walking panda (``panda-model``) and a film camera (models random layouts
never place), a blue teapot standing on a 1.2 m box (training props always stand on the
ground) and a small smiley."""

_UP = (0.0, 0.0, 1.0)  # Panda3D's world is Z up; poses are OpenGL camera-to-world


@dataclass(frozen=True)
class Site:
    """Where the cameras of one scene may go and what their paths aim at (Panda world,
    Z up, metres).

    Attributes:
        clearing: cameras stay strictly inside this ground ellipse.
        obstacles: ``((x, y), radius)`` vertical cylinders cameras keep out of.
        focus: ``(x, y, z)`` dollies look at; the middle of the main prop.
        target_box: ``((x0, y0, z0), (x1, y1, z1))`` orbits look at a point drawn from it.
        orbit_centre: ``(x, y)`` orbits circle.
        size_m: path lengths and orbit radii scale with ``size_m / 5.5`` (the default
            scene's clearing radius).
        min_height_m, max_height_m: camera height range above the ground.
    """

    clearing: Clearing
    obstacles: tuple[tuple[tuple[float, float], float], ...]
    focus: tuple[float, float, float]
    target_box: tuple[tuple[float, float, float], tuple[float, float, float]]
    orbit_centre: tuple[float, float]
    size_m: float
    min_height_m: float = MIN_HEIGHT_M
    max_height_m: float = MAX_HEIGHT_M


LEGACY_SITE = Site(Clearing((0.0, 0.0), (CLEARING_RADIUS_M, CLEARING_RADIUS_M)), OBSTACLES,
                   (0.0, 0.5, 0.7), ((-0.3, 0.2, 0.4), (0.3, 0.8, 1.0)), (0.0, 0.0),
                   CLEARING_RADIUS_M)
"""The default scene's site, as recorded before layouts existed (same seeds, same paths)."""


def site_for_layout(layout: SceneLayout, wall_margin_m: float = WALL_MARGIN_M,
                    prop_margin_m: float = PROP_MARGIN_M) -> Site:
    """The :class:`Site` of a garden layout: its scaled and turned clearing, its props.

    Cameras stay inside :meth:`SceneLayout.clearing` shrunk by ``wall_margin_m`` and
    ``prop_margin_m`` away from every prop's footprint cylinder
    (:attr:`Prop.footprint_radius_m`). Paths centre on the prop nearest the clearing's
    middle (looking at 0.6 of its height), or on the middle at 0.7 m without props.

    Raises:
        ValueError: the margin leaves no clearing.
    """
    clearing = layout.clearing().shrunk(wall_margin_m)
    obstacles = tuple(((p.x, p.y), p.footprint_radius_m + prop_margin_m) for p in layout.props)
    cx, cy = clearing.centre
    if layout.props:
        main = min(layout.props, key=lambda p: math.hypot(p.x - cx, p.y - cy))
        focus = (main.x, main.y, main.z + 0.6 * main.height_m)
    else:
        focus = (cx, cy, 0.7)
    fx, fy, fz = focus
    target_box = ((fx - 0.3, fy - 0.3, max(fz - 0.3, 0.1)), (fx + 0.3, fy + 0.3, fz + 0.3))
    return Site(clearing, obstacles, focus, target_box, (fx, fy), min(clearing.semi_axes))


def is_free(p: np.ndarray, site: Site | None = None) -> bool:
    """The collision check: inside the clearing, within the height range, off the props.

    Args:
        p: ``[3]`` camera position, Panda world (Z up), metres.
        site: the scene; ``None`` is :data:`LEGACY_SITE` (the default scene).
    """
    site = LEGACY_SITE if site is None else site
    x, y, z = (float(v) for v in p)
    if not site.min_height_m <= z <= site.max_height_m or not site.clearing.contains(x, y):
        return False
    return all(math.hypot(x - cx, y - cy) > r for (cx, cy), r in site.obstacles)


def _all_free(poses: Sequence[np.ndarray], site: Site) -> bool:
    return all(is_free(c2w[:3, 3], site) for c2w in poses)


def _random_point(rng: np.random.Generator, z: float, site: Site) -> np.ndarray:
    x, y = site.clearing.sample(rng)
    return np.array([x, y, z])


def _orbit(rng, n, site):
    k = site.size_m / CLEARING_RADIUS_M
    radius = rng.uniform(2.0 * k, 5.0 * k)
    height = rng.uniform(0.6, 2.6)
    arc = rng.uniform(40.0, 100.0) * rng.choice([-1, 1])
    (x0, y0, z0), (x1, y1, z1) = site.target_box
    target = (rng.uniform(x0, x1), rng.uniform(y0, y1), rng.uniform(z0, z1))
    centre = (site.orbit_centre[0], site.orbit_centre[1], 0.0)
    return planner.orbit(centre, radius, height, rng.uniform(0, 360), arc, n,
                         look_at=target, up=_UP, convention="opengl")


def _dolly(rng, n, site):
    k = site.size_m / CLEARING_RADIUS_M
    start = _random_point(rng, rng.uniform(0.8, 2.4), site)
    heading = rng.uniform(0, 2 * math.pi)
    length = rng.uniform(1.5 * k, 3.5 * k)
    end = start + length * np.array([math.cos(heading), math.sin(heading), 0.0])
    end[2] = np.clip(end[2] + rng.uniform(-0.5, 0.5), site.min_height_m + 0.2,
                     site.max_height_m - 0.2)
    if rng.random() < 0.5:  # a push along the track, looking slightly down
        d = (end - start) / np.linalg.norm(end - start)
        direction = d + np.array([0.0, 0.0, -rng.uniform(0.05, 0.35)])
        return planner.dolly(start, end, n, direction=direction, ease=True, up=_UP,
                             convention="opengl")
    return planner.dolly(start, end, n, look_at=site.focus, up=_UP, convention="opengl")


def _walk(rng, n, site):
    k = site.size_m / CLEARING_RADIUS_M
    waypoints = [_random_point(rng, 0.0, site)]
    heading = rng.uniform(0, 2 * math.pi)
    for _ in range(3):
        heading += rng.uniform(-0.8, 0.8)
        step = rng.uniform(1.2 * k, 2.2 * k)
        waypoints.append(waypoints[-1] + step * np.array([math.cos(heading),
                                                          math.sin(heading), 0.0]))
    return planner.walk(waypoints, n, eye_height=rng.uniform(1.3, 1.8),
                        pitch_deg=rng.uniform(-15.0, 0.0), sway_deg=rng.uniform(0.0, 12.0),
                        sway_cycles=rng.uniform(0.5, 1.5), up=_UP, convention="opengl")


def _random(rng, n, site):
    (x0, y0), (x1, y1) = site.clearing.bounds()
    bounds = [[x0, y0, site.min_height_m], [x1, y1, site.max_height_m]]
    return planner.random_trajectories(bounds, 1, n, rng, lambda p: is_free(p, site), up=_UP,
                                       convention="opengl")[0]


_MAKERS: dict[str, Callable] = {"orbit": _orbit, "dolly": _dolly, "walk": _walk,
                                "random": _random}


def plan_trajectories(count: int, frames: int, rng: np.random.Generator,
                      max_tries: int = 200, sites: Site | Sequence[Site] | None = None
                      ) -> list[tuple[str, list[np.ndarray]]]:
    """Collision-free camera paths through the garden, the kinds of :data:`KINDS` in turn.

    Args:
        count: number of paths.
        frames: poses per path (>= 2).
        rng: the only source of randomness.
        max_tries: draws per path before giving up.
        sites: the scene of every path (one :class:`Site`), or of each path (``count`` of
            them); ``None``: :data:`LEGACY_SITE`, the default scene, whose paths are the
            same as before layouts existed.

    Returns:
        ``(kind, poses)`` per path; poses are ``[4, 4]`` float64 OpenGL camera-to-world
        matrices in Panda's Z-up world, metres (what :class:`PandaEngine` renders).

    Raises:
        ValueError: ``sites`` is a sequence whose length is not ``count``.
        RuntimeError: no free path of a kind in ``max_tries`` draws.
    """
    if sites is None or isinstance(sites, Site):
        sites = [LEGACY_SITE if sites is None else sites] * count
    sites = list(sites)
    if len(sites) != count:
        raise ValueError(f"plan_trajectories: {len(sites)} sites for {count} paths")
    out = []
    for i in range(count):
        kind = KINDS[i % len(KINDS)]
        for _ in range(max_tries):
            poses = _MAKERS[kind](rng, frames, sites[i])
            if _all_free(poses, sites[i]):
                out.append((kind, poses))
                break
        else:
            raise RuntimeError(f"no collision-free {kind} path in {max_tries} draws for path "
                               f"{i}")
    return out


def layout_for_index(index: int, layout_seed: int = 0, random_props: bool = False,
                     scale_range: tuple[float, float] = (0.75, 1.25),
                     headings_deg: Sequence[float] | None = None) -> SceneLayout:
    """Layout number ``index`` of the stream of seed ``layout_seed``.

    Drawn by :func:`random_layout` from ``numpy.random.default_rng([layout_seed, index])``,
    so it depends on the index and the options only, never on how many layouts a run uses.
    Without ``random_props`` the layout keeps the demo's panda and teapot.

    Raises:
        ValueError: a negative index or seed, or a bad option (see :func:`random_layout`).
    """
    if int(index) < 0 or int(layout_seed) < 0:
        raise ValueError(f"layout index and seed must be >= 0, got {index} and {layout_seed}")
    rng = np.random.default_rng([int(layout_seed), int(index)])
    return random_layout(rng, scale_range=scale_range, headings_deg=headings_deg,
                              fixed_props=None if random_props else DEFAULT_PROPS)


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
    g = p.add_argument_group("scene layouts")
    g.add_argument("--layouts", type=int, default=0, metavar="N",
                   help="film N garden layouts, trajectory i in layout FIRST + i %% N (0: the "
                        "default scene only; N = --trajectories: one layout per trajectory)")
    g.add_argument("--first-layout", type=int, default=0, metavar="FIRST",
                   help="index of the first layout (held-out sets: past the training's)")
    g.add_argument("--layout-seed", type=int, default=0,
                   help="seed of the layout stream: layout j is drawn from "
                        "default_rng([LAYOUT_SEED, j])")
    g.add_argument("--scale-range", type=float, nargs=2, default=(0.75, 1.25),
                   metavar=("LO", "HI"), help="garden scale relative to the default scene")
    g.add_argument("--heading", type=float, nargs="+", default=None, metavar="DEG",
                   help="garden headings to choose from, degrees (default: any heading)")
    g.add_argument("--random-props", action="store_true",
                   help="2-5 random props from panda, teapot, smiley, frowney, box, jack "
                        "(default: the demo's panda and teapot)")
    g.add_argument("--level", choices=("new",), default=None,
                   help="film the held-out NEW_LEVEL in every trajectory instead")
    g.add_argument("--split", default="train",
                   help="split name stored in each dataset's metadata")
    p.add_argument("--manifest", default=None, metavar="FILE",
                   help="also write every dataset's metadata (layout ...) into this JSON file")
    args = p.parse_args(argv)
    if args.trajectories < 1 or args.frames < 2 or args.size < 16:
        p.error(f"need --trajectories >= 1, --frames >= 2, --size >= 16 (got "
                f"{args.trajectories}, {args.frames}, {args.size})")
    if args.layouts < 0 or args.first_layout < 0 or args.layout_seed < 0:
        p.error(f"need --layouts, --first-layout, --layout-seed >= 0 (got {args.layouts}, "
                f"{args.first_layout}, {args.layout_seed})")
    lo, hi = args.scale_range
    if not 0.5 <= lo <= hi <= 2.0:
        p.error(f"need 0.5 <= LO <= HI <= 2.0 for --scale-range (got {lo} {hi}): smaller "
                "gardens leave no room for paths, larger ones outgrow the 3 m camera heights")
    if args.level is not None and (args.layouts or args.random_props):
        p.error("--level films one fixed layout; it excludes --layouts and --random-props")
    if (args.random_props or args.heading is not None or args.first_layout) \
            and not args.layouts:
        p.error("--random-props, --heading and --first-layout need --layouts N (N >= 1)")
    return args


def _scenes(args) -> list[tuple[str, SceneLayout, Site | None]]:
    """``(layout_id, layout, site)`` of every trajectory; site ``None``: the legacy check."""
    if args.level == "new":
        return [("new-level", NEW_LEVEL, site_for_layout(NEW_LEVEL))] * args.trajectories
    if not args.layouts:
        return [("default", DEFAULT_LAYOUT, None)] * args.trajectories
    drawn = {}
    for j in range(args.first_layout, args.first_layout + args.layouts):
        layout = layout_for_index(j, args.layout_seed, args.random_props,
                                  tuple(args.scale_range), args.heading)
        drawn[j] = (f"seed{args.layout_seed}-{j:04d}", layout, site_for_layout(layout))
    return [drawn[args.first_layout + i % args.layouts] for i in range(args.trajectories)]


def main(argv: Sequence[str] | None = None) -> dict:
    """Command line entry point; see the module docstring.

    Returns:
        ``datasets`` (the server-side paths), ``frames`` (frames written in all),
        ``rejected`` (frames the server refused), ``seconds`` and ``frames_per_s`` (from
        the server being up to the last dataset stored: engine start, rendering, streaming,
        writing; path planning and the server's start are not counted),
        ``layouts`` (the layout id of each dataset), ``metadata_stored`` (datasets whose
        ``transforms.json`` got the metadata).
    """
    args = _parse_args(argv)
    scenes = _scenes(args)
    sites = [site for _, _, site in scenes]
    paths = plan_trajectories(args.trajectories, args.frames, np.random.default_rng(args.seed),
                              sites=None if all(s is None for s in sites) else
                              [LEGACY_SITE if s is None else s for s in sites])
    draw = None if not args.layouts else {
        "layout_seed": args.layout_seed, "scale_range": list(args.scale_range),
        "headings_deg": args.heading, "random_props": args.random_props}
    proc = None
    target = args.server
    if target is None:
        from worldbridge.demo import start_server_process

        Path(args.out).mkdir(parents=True, exist_ok=True)
        proc, port = start_server_process(["--data-dir", str(Path(args.out).resolve())])
        target = f"127.0.0.1:{port}"
    stats: dict[str, Any] = {"datasets": [], "frames": 0, "rejected": 0, "layouts": [], "metadata_stored": 0}
    manifest = []
    t0 = time.perf_counter()
    try:
        with PandaEngine(args.size, args.size, fov_y_deg=args.fov,
                              layout=scenes[0][1]) as engine, \
                BridgeClient(target, token=args.token, timeout_s=30.0) as client:
            k = engine.intrinsics()
            print(f"panda3d engine {engine.renderer}, {args.size}x{args.size}; server {target}",
                  flush=True)
            for i, ((kind, poses), (layout_id, layout, _)) in enumerate(zip(paths, scenes)):
                if engine.layout != layout:
                    engine.set_layout(layout)

                def views(poses=poses) -> Iterator[CapturedView]:
                    for c2w in poses:
                        rgb, depth = engine.render(c2w)
                        yield CapturedView(rgb=rgb, depth=wire_depth(depth), c2w=c2w,
                                           convention=Convention.OPENGL, intrinsics=k)

                name = f"{args.prefix}_{i:03d}_{kind}"
                if layout_id != "default":
                    name += f"_{layout_id}"
                result = client.record(name, views(),
                                        description=f"panda3d garden, {kind} path, seed "
                                                    f"{args.seed}, layout {layout_id}")
                meta = {"scene": "panda3d garden (worldbridge.engines.panda3d.record)",
                        "kind": kind, "trajectory": i, "seed": args.seed, "split": args.split,
                        "layout_id": layout_id, "layout": layout.to_dict()}
                if draw is not None:
                    meta["layout_draw"] = draw
                stored = Path(result.path).is_dir()
                if stored:
                    update_dataset_metadata(result.path, meta)
                    stats["metadata_stored"] += 1
                manifest.append({"name": name, "path": str(result.path), **meta})
                stats["datasets"].append(str(result.path))
                stats["layouts"].append(layout_id)
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
    if args.manifest:
        Path(args.manifest).parent.mkdir(parents=True, exist_ok=True)
        Path(args.manifest).write_text(json.dumps({"datasets": manifest}, indent=1) + "\n")
    elif stats["metadata_stored"] < len(manifest):
        print(f"warning: {len(manifest) - stats['metadata_stored']} datasets are not reachable "
              "from here, so their layouts were not stored; pass --manifest FILE",
              file=sys.stderr)
    stats["seconds"] = time.perf_counter() - t0
    stats["frames_per_s"] = stats["frames"] / stats["seconds"]
    print(f"recorded {stats['frames']} frames in {len(paths)} datasets in "
          f"{stats['seconds']:.1f} s ({stats['frames_per_s']:.1f} frames/s); "
          f"{stats['rejected']} rejected")
    return stats


if __name__ == "__main__":
    main()
