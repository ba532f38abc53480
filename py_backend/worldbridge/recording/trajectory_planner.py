"""Camera path templates for capturing synthetic training trajectories in any engine.

InSpatio-WorldFM ("InSpatio-WorldFM: An Open-Source Real-Time Generative Frame Model", arXiv 2603.11911),
section 2.4.2, builds its synthetic fine-tuning set in Unreal Engine from
"stochastic motion sampling or pre-defined motion templates", with "collision avoidance to
guarantee viewpoint validity". This module supplies both: templates (:func:`orbit`,
:func:`dolly`, :func:`walk`) and random smooth paths (:func:`random_trajectories`) that
reject camera positions the engine reports as blocked (``is_free``).

Worlds, units and conventions. Positions (centres, waypoints, bounds) are given in the
world of ``convention`` and its units, and the poses come back as camera-to-world matrices
in that convention, ready to send tagged with it (see :mod:`worldbridge.geometry.
conventions`):

============  ================================================  =====================
convention    input world                                        returned camera axes
============  ================================================  =====================
``OPENCV``    any right-handed world, metres, ``up`` as given    X right, Y down, Z fwd
``OPENGL``    any right-handed world, metres, ``up`` as given    X right, Y up, -Z fwd
``UNREAL``    Unreal's world (left-handed, Z up), centimetres    Unreal camera (X fwd)
``UNITY``     Unity's world (left-handed, Y up), metres          Unity camera (Z fwd)
============  ================================================  =====================

``up`` defaults to +Z (Panda3D, Unreal) for OPENCV, OPENGL and UNREAL and to +Y for
UNITY. Poses are planned in a right-handed metric frame with OpenCV cameras (for UNREAL
and UNITY: the backend's frame, reached by :func:`~worldbridge.geometry.to_opencv_c2w`
of translations) and converted with :func:`~worldbridge.geometry.opencv_to_opengl_c2w` or
:func:`~worldbridge.geometry.from_opencv_c2w`. Cameras are level: no roll; the image's
right axis is horizontal (perpendicular to ``up``), its down axis points away from
``up``. Every pose is a float64 ``[4, 4]`` rigid transform (column-vector convention,
``p_world = c2w @ p_cam``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from worldbridge.geometry import (
    Convention,
    from_opencv_c2w,
    opencv_to_opengl_c2w,
    to_opencv_c2w,
)

__all__ = ["look_at", "orbit", "dolly", "walk", "random_trajectories", "catmull_rom",
           "ConventionLike"]

ConventionLike = Convention | str
"""A :class:`~worldbridge.geometry.Convention` or its name (``"opencv"``, ``"OPENGL"`` ...)."""

_MAX_PITCH_DEG = 85.0


def _convention(convention: ConventionLike) -> Convention:
    if isinstance(convention, str):
        name = convention.upper()
        if name not in Convention.__members__ or name == "UNSPECIFIED":
            raise ValueError(f"unknown convention {convention!r}; expected one of "
                             f"{[c.name.lower() for c in Convention if c]}")
        return Convention[name]
    try:
        conv = Convention(int(convention))
    except (TypeError, ValueError):
        raise ValueError(f"unknown convention {convention!r}") from None
    if conv is Convention.UNSPECIFIED:
        raise ValueError("convention must not be UNSPECIFIED")
    return conv


def _vec3(v: Sequence[float], name: str) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be 3 finite numbers, got {v!r}")
    return a


def _points(v: Sequence[Sequence[float]] | np.ndarray, name: str) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 3 or not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be [N, 3] finite numbers, got shape {list(a.shape)}")
    return a


def _count(n: int, name: str = "n") -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {n!r}")
    return int(n)


class _Frame:
    """Maps the input world of a convention to the right-handed metric planning frame."""

    def __init__(self, convention: ConventionLike, up: Sequence[float] | None) -> None:
        self.conv = _convention(convention)
        if up is None:
            up = (0.0, 1.0, 0.0) if self.conv is Convention.UNITY else (0.0, 0.0, 1.0)
        u = _vec3(up, "up")
        if np.linalg.norm(u) < 1e-12:
            raise ValueError(f"up must be a non-zero vector, got {up!r}")
        self.up_in = u / np.linalg.norm(u)
        if self.conv in (Convention.UNREAL, Convention.UNITY):
            # The point map of the convention (axis map A and unit scale), read off
            # to_opencv_c2w of translations: p_plan = M p_in.
            m = np.empty((3, 3))
            for i in range(3):
                t = np.eye(4)
                t[i, 3] = 1.0
                m[:, i] = to_opencv_c2w(t, self.conv)[:3, 3]
            self.m = m
        else:
            self.m = np.eye(3)
        self.scale = float(np.linalg.norm(self.m[:, 0]))  # metres per input unit
        self.up = self.m @ self.up_in
        self.up /= np.linalg.norm(self.up)

    def to_plan(self, p: np.ndarray) -> np.ndarray:
        return p @ self.m.T

    def output(self, c2w_cv: np.ndarray) -> np.ndarray:
        if self.conv is Convention.OPENCV:
            return c2w_cv
        if self.conv is Convention.OPENGL:
            return opencv_to_opengl_c2w(c2w_cv)
        return from_opencv_c2w(c2w_cv, self.conv)

    def horizontal_basis(self) -> tuple[np.ndarray, np.ndarray]:
        """``(e1, e2)`` spanning the plane perpendicular to ``up`` in input coordinates:
        e1 is the world axis least aligned with up, made perpendicular; e2 = up x e1."""
        axis = np.eye(3)[int(np.argmin(np.abs(self.up_in)))]
        e1 = axis - self.up_in * (axis @ self.up_in)
        e1 /= np.linalg.norm(e1)
        return e1, np.cross(self.up_in, e1)


def _opencv_look(eye: np.ndarray, forward: np.ndarray, up: np.ndarray) -> np.ndarray:
    """OpenCV c2w at ``eye`` looking along ``forward`` (level camera), planning frame."""
    f = forward / np.linalg.norm(forward)
    right = np.cross(f, up)
    n = np.linalg.norm(right)
    if n < 1e-9:
        raise ValueError(f"view direction {f.tolist()} is parallel to up {up.tolist()}; a "
                         "level camera cannot look straight up or down")
    right /= n
    down = np.cross(f, right)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, down, f, eye
    return c2w


def _poses(frame: _Frame, eyes_in: np.ndarray, forwards_in: np.ndarray) -> list[np.ndarray]:
    eyes = frame.to_plan(eyes_in)
    fwd = frame.to_plan(forwards_in)
    return [frame.output(_opencv_look(e, f, frame.up)) for e, f in zip(eyes, fwd)]


def look_at(eye: Sequence[float], target: Sequence[float], up: Sequence[float] | None = None,
            convention: ConventionLike = Convention.OPENCV) -> np.ndarray:
    """A level camera at ``eye`` looking at ``target``.

    Args:
        eye: ``[3]`` camera centre, in the convention's world and units.
        target: ``[3]`` point to look at, same world.
        up: ``[3]`` world up direction (see the module docstring for the default).
        convention: world and camera axes of the input and the result.

    Returns:
        ``[4, 4]`` float64 camera-to-world in ``convention``.

    Raises:
        ValueError: ``eye == target``, a view direction parallel to ``up``, non-finite
            input or an unknown convention.
    """
    frame = _Frame(convention, up)
    e, t = _vec3(eye, "eye"), _vec3(target, "target")
    if np.linalg.norm(t - e) < 1e-12:
        raise ValueError(f"look_at: eye {e.tolist()} equals target")
    return _poses(frame, e[None], (t - e)[None])[0]


def orbit(center: Sequence[float], radius: float, height: float, start_deg: float,
          arc_deg: float, n: int, look_at: Sequence[float] | None = None, *,
          up: Sequence[float] | None = None,
          convention: ConventionLike = Convention.OPENCV) -> list[np.ndarray]:
    """Cameras on a circular arc around ``center``, looking at a fixed point.

    Camera ``i`` sits at ``center + radius (cos a_i e1 + sin a_i e2) + height up`` with
    ``a_i = start_deg + arc_deg * i / (n - 1)`` (evenly spaced, both ends included), where
    ``e1`` is the world axis least aligned with ``up`` (X for a Z-up or Y-up world) and
    ``e2 = up x e1`` (componentwise cross product of the coordinates; Y for Z up).

    Args:
        center: ``[3]`` centre of the circle, input world and units.
        radius: circle radius (> 0), input units.
        height: camera height above ``center`` along ``up``, input units.
        start_deg: angle of the first camera, degrees.
        arc_deg: angle swept from the first to the last camera, degrees (negative turns
            the other way; 360 closes the circle with the last pose equal to the first).
        n: number of poses (>= 1).
        look_at: ``[3]`` point every camera looks at; default ``center``.
        up: world up (module docstring).
        convention: world and camera axes of the input and the result.

    Returns:
        ``n`` ``[4, 4]`` float64 camera-to-world matrices.

    Raises:
        ValueError: ``radius <= 0``, ``n < 1``, non-finite input, a camera looking
            straight along ``up`` or sitting on ``look_at``.
    """
    frame = _Frame(convention, up)
    n = _count(n)
    c = _vec3(center, "center")
    if not (math.isfinite(radius) and radius > 0):
        raise ValueError(f"radius must be a finite number > 0, got {radius!r}")
    target = c if look_at is None else _vec3(look_at, "look_at")
    e1, e2 = frame.horizontal_basis()
    a = np.radians(start_deg + arc_deg * (np.arange(n) / max(n - 1, 1)))
    eyes = (c + radius * (np.cos(a)[:, None] * e1 + np.sin(a)[:, None] * e2)
            + float(height) * frame.up_in)
    fwd = target - eyes
    if np.any(np.linalg.norm(fwd, axis=1) < 1e-12):
        raise ValueError("orbit: a camera sits on the look_at point")
    return _poses(frame, eyes, fwd)


def dolly(start: Sequence[float], end: Sequence[float], n: int,
          look_at: Sequence[float] | None = None, direction: Sequence[float] | None = None, *,
          ease: bool = False, up: Sequence[float] | None = None,
          convention: ConventionLike = Convention.OPENCV) -> list[np.ndarray]:
    """Cameras on a straight track from ``start`` to ``end``.

    Orientation: towards ``look_at`` if given (the view turns as the camera passes);
    otherwise along ``direction`` (fixed); otherwise along the track (a push-in).

    Args:
        start, end: ``[3]`` first and last camera centre, input world and units.
        n: number of poses (>= 1); evenly spaced along the track.
        look_at: ``[3]`` point every camera looks at.
        direction: ``[3]`` fixed viewing direction (ignored with ``look_at``).
        ease: smoothstep the spacing (slow at both ends) instead of constant speed.
        up: world up (module docstring).
        convention: world and camera axes of the input and the result.

    Returns:
        ``n`` ``[4, 4]`` float64 camera-to-world matrices.

    Raises:
        ValueError: ``n < 1``, non-finite input, ``start == end`` without a view
            direction, a view direction parallel to ``up``.
    """
    frame = _Frame(convention, up)
    n = _count(n)
    s, e = _vec3(start, "start"), _vec3(end, "end")
    t = np.arange(n) / max(n - 1, 1)
    if ease:
        t = t * t * (3.0 - 2.0 * t)
    eyes = s + t[:, None] * (e - s)
    if look_at is not None:
        fwd = _vec3(look_at, "look_at") - eyes
        if np.any(np.linalg.norm(fwd, axis=1) < 1e-12):
            raise ValueError("dolly: a camera sits on the look_at point")
    else:
        d = _vec3(direction, "direction") if direction is not None else e - s
        if np.linalg.norm(d) < 1e-12:
            raise ValueError("dolly: start equals end; give look_at or direction")
        fwd = np.broadcast_to(d, eyes.shape)
    return _poses(frame, eyes, fwd)


def catmull_rom(points: Sequence[Sequence[float]] | np.ndarray, n: int, closed: bool = False,
                alpha: float = 0.5, samples_per_segment: int = 64
                ) -> tuple[np.ndarray, np.ndarray]:
    """Evenly spaced samples of a Catmull-Rom spline through ``points``.

    The spline passes through every point; ``alpha = 0.5`` is the centripetal variant
    (no cusps or self-intersections within a segment; Yuksel et al. 2011), 0 uniform,
    1 chordal. Open curves extend the ends by reflection. The curve is sampled densely
    and resampled at ``n`` arc-length-equidistant positions (constant speed).

    Args:
        points: ``[P, 3]`` control points (P >= 2), any units; consecutive duplicates
            are dropped.
        n: number of samples (>= 1); with ``closed`` the last sample is not the first.
        closed: a loop back to the first point.
        alpha: knot parameterisation exponent in [0, 1].
        samples_per_segment: density of the arc-length table.

    Returns:
        ``(positions [n, 3], tangents [n, 3])`` float64; tangents are unit vectors along
        the direction of travel.

    Raises:
        ValueError: fewer than 2 distinct points, ``n < 1``, alpha outside [0, 1].
    """
    p = _points(points, "points")
    n = _count(n)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    keep = np.ones(len(p), bool)
    keep[1:] = np.linalg.norm(np.diff(p, axis=0), axis=1) > 1e-12
    p = p[keep]
    if closed and len(p) > 2 and np.linalg.norm(p[0] - p[-1]) < 1e-12:
        p = p[:-1]
    if len(p) < 2:
        raise ValueError("catmull_rom needs at least 2 distinct points")
    if closed:
        ext = np.concatenate([p[-1:], p, p[:2]])
    else:
        ext = np.concatenate([2 * p[:1] - p[1:2], p, 2 * p[-1:] - p[-2:-1]])
    segments = len(ext) - 3
    u = np.linspace(0.0, 1.0, samples_per_segment, endpoint=False)
    dense = []
    for i in range(segments):
        p0, p1, p2, p3 = ext[i:i + 4]
        t0 = 0.0
        t1 = t0 + max(float(np.linalg.norm(p1 - p0)), 1e-12) ** alpha
        t2 = t1 + max(float(np.linalg.norm(p2 - p1)), 1e-12) ** alpha
        t3 = t2 + max(float(np.linalg.norm(p3 - p2)), 1e-12) ** alpha
        t = (t1 + u * (t2 - t1))[:, None]
        a1 = (t1 - t) / (t1 - t0) * p0 + (t - t0) / (t1 - t0) * p1
        a2 = (t2 - t) / (t2 - t1) * p1 + (t - t1) / (t2 - t1) * p2
        a3 = (t3 - t) / (t3 - t2) * p2 + (t - t2) / (t3 - t2) * p3
        b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2
        b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3
        dense.append((t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2)
    dense.append(ext[1:2] if closed else p[-1:])
    curve = np.concatenate(dense)
    seg = np.linalg.norm(np.diff(curve, axis=0), axis=1)
    arc = np.concatenate([[0.0], np.cumsum(seg)])
    total = arc[-1]
    s = np.linspace(0.0, total, n, endpoint=not closed) if n > 1 else np.zeros(1)
    pos = np.stack([np.interp(s, arc, curve[:, k]) for k in range(3)], axis=1)
    # Tangent: the chord of the dense curve around each sample.
    eps = max(total * 1e-3, 1e-9)
    lo = np.stack([np.interp(np.clip(s - eps, 0, total), arc, curve[:, k]) for k in range(3)], 1)
    hi = np.stack([np.interp(np.clip(s + eps, 0, total), arc, curve[:, k]) for k in range(3)], 1)
    tan = hi - lo
    tan /= np.maximum(np.linalg.norm(tan, axis=1, keepdims=True), 1e-300)
    return pos, tan


def _level_forward(tangents: np.ndarray, up: np.ndarray, pitch_deg: np.ndarray | float,
                   yaw_deg: np.ndarray | float = 0.0) -> np.ndarray:
    """Directions along the horizontal part of ``tangents``, turned by yaw (about up,
    towards ``up x forward``) and tilted by pitch (positive looks up)."""
    h = tangents - (tangents @ up)[:, None] * up
    norms = np.linalg.norm(h, axis=1)
    # Vertical travel has no heading: carry the last valid one (or any horizontal axis).
    last = None
    for i in range(len(h)):
        if norms[i] > 1e-9:
            last = h[i] / norms[i]
            h[i] = last
        elif last is not None:
            h[i] = last
    if last is None:
        axis = np.eye(3)[int(np.argmin(np.abs(up)))]
        h[:] = axis - up * (axis @ up)
    first = int(np.argmax(norms > 1e-9)) if np.any(norms > 1e-9) else 0
    h[:first] = h[first]
    h /= np.linalg.norm(h, axis=1, keepdims=True)
    side = np.cross(up, h)
    yaw = np.radians(np.broadcast_to(yaw_deg, (len(h),)))
    h = np.cos(yaw)[:, None] * h + np.sin(yaw)[:, None] * side
    pitch = np.radians(np.clip(np.broadcast_to(pitch_deg, (len(h),)), -_MAX_PITCH_DEG,
                               _MAX_PITCH_DEG))
    return np.cos(pitch)[:, None] * h + np.sin(pitch)[:, None] * up


def walk(waypoints: Sequence[Sequence[float]], n: int, eye_height: float | None = None, *,
         pitch_deg: float = 0.0, closed: bool = False, sway_deg: float = 0.0,
         sway_cycles: float = 1.0, up: Sequence[float] | None = None,
         convention: ConventionLike = Convention.OPENCV) -> list[np.ndarray]:
    """A smooth walk through ``waypoints``, looking along the direction of travel.

    The camera follows the centripetal Catmull-Rom spline through the waypoints
    (:func:`catmull_rom`) at constant speed; it looks along the horizontal part of the
    path's tangent, tilted by ``pitch_deg`` and optionally swaying left and right (a
    sinusoidal yaw of amplitude ``sway_deg``, ``sway_cycles`` periods over the walk).

    Args:
        waypoints: ``[P, 3]`` points to pass through (P >= 2), input world and units.
        n: number of poses (>= 1).
        eye_height: if given, each waypoint is a ground point and the camera is this far
            above it along ``up``; None: waypoints are camera positions.
        pitch_deg: view tilt, degrees; negative looks down (clamped to +-85).
        closed: loop back to the first waypoint.
        sway_deg: amplitude of the side-to-side look, degrees.
        sway_cycles: sway periods over the whole walk.
        up: world up (module docstring).
        convention: world and camera axes of the input and the result.

    Returns:
        ``n`` ``[4, 4]`` float64 camera-to-world matrices.

    Raises:
        ValueError: fewer than 2 distinct waypoints, ``n < 1``, non-finite input.
    """
    frame = _Frame(convention, up)
    pts = _points(waypoints, "waypoints")
    if eye_height is not None:
        pts = pts + float(eye_height) * frame.up_in
    pos, tan = catmull_rom(pts, n, closed=closed)
    t = np.arange(len(pos)) / max(len(pos) - 1, 1)
    yaw = sway_deg * np.sin(2 * np.pi * sway_cycles * t)
    fwd = _level_forward(tan, frame.up_in, pitch_deg, yaw)
    return _poses(frame, pos, fwd)


def _random_path_args(bounds: Sequence[Sequence[float]], n_paths: int, frames_per_path: int, frame: _Frame,
                      step_range: tuple[float, float] | None, num_controls: int, look_at_prob: float,
                      max_tries: int, checks_per_step: int) -> tuple[np.ndarray, int, int, float, float]:
    """:func:`random_trajectories`' arguments checked: ``(box [2, 3] float64, paths, frames per
    path, least step, largest step)``, steps in input units (default 3 to 12 cm).

    Raises:
        ValueError: as :func:`random_trajectories`.
    """
    box = np.asarray(bounds, dtype=np.float64)
    if box.shape != (2, 3) or not np.all(np.isfinite(box)) or np.any(box[0] >= box[1]):
        raise ValueError(f"bounds must be [[xmin, ymin, zmin], [xmax, ymax, zmax]] with "
                         f"min < max, got {bounds!r}")
    n_paths = _count(n_paths, "n_paths")
    frames = _count(frames_per_path, "frames_per_path")
    if frames < 2:
        raise ValueError(f"frames_per_path must be >= 2, got {frames}")
    if num_controls < 2:
        raise ValueError(f"num_controls must be >= 2, got {num_controls}")
    if step_range is None:
        step_range = (0.03 / frame.scale, 0.12 / frame.scale)
    lo_step, hi_step = (float(v) for v in step_range)
    if not 0 < lo_step <= hi_step:
        raise ValueError(f"step_range must be 0 < min <= max, got {step_range!r}")
    if not 0.0 <= look_at_prob <= 1.0:
        raise ValueError(f"look_at_prob must be in [0, 1], got {look_at_prob}")
    if max_tries < 1 or checks_per_step < 0:
        raise ValueError(f"max_tries must be >= 1 and checks_per_step >= 0, got {max_tries}, "
                         f"{checks_per_step}")
    return box, n_paths, frames, lo_step, hi_step


def random_trajectories(bounds: Sequence[Sequence[float]], n_paths: int, frames_per_path: int,
                        rng: np.random.Generator,
                        is_free: Callable[[np.ndarray], bool] | None = None, *,
                        step_range: tuple[float, float] | None = None,
                        num_controls: int = 4, turn_deg: float = 30.0,
                        climb_deg: float = 10.0,
                        pitch_range_deg: tuple[float, float] = (-25.0, 10.0),
                        look_at_prob: float = 0.3, checks_per_step: int = 4,
                        max_tries: int = 200, up: Sequence[float] | None = None,
                        convention: ConventionLike = Convention.OPENCV
                        ) -> list[list[np.ndarray]]:
    """Random smooth camera paths inside an axis-aligned box, avoiding blocked places.

    Each path (InSpatio-WorldFM 2.4.2, "stochastic motion sampling" with "collision
    avoidance"): a free start point drawn uniformly in the box; a speed drawn from
    ``step_range`` (length per frame); ``num_controls - 1`` equal legs of a random walk
    whose heading turns by up to ``turn_deg`` (about ``up``) and climbs by up to
    ``climb_deg`` per leg; a centripetal Catmull-Rom spline through them resampled at
    constant speed. The camera either looks along the travel direction (level, with a
    pitch drawn from ``pitch_range_deg`` and a slow random sway of up to 10 degrees) or,
    with probability ``look_at_prob``, at a random point of the box at least 20 frame
    steps from every camera of the path (so the view turns by at most about 3 degrees per
    frame; if none is found in 20 draws the path looks along its travel direction). A
    path is rejected and drawn again when any position (frames and ``checks_per_step``
    points between consecutive frames) leaves the box or fails ``is_free``.

    Args:
        bounds: ``[[xmin, ymin, zmin], [xmax, ymax, zmax]]`` in the input world and units.
        n_paths: number of paths (>= 1).
        frames_per_path: poses per path (>= 2).
        rng: the random generator (the only source of randomness: same state, same paths).
        is_free: the engine's collision check: called with a ``[3]`` float64 position in
            the input world and units, returns True where a camera may be. None: all free.
        step_range: ``(min, max)`` camera travel per frame, input units; default 3 to 12 cm
            (0.03-0.12 m, or 3-12 for UNREAL's centimetres).
        num_controls: spline control points per path (>= 2).
        turn_deg: largest heading change per leg, degrees (the default keeps the view
            turning by at most about 7 degrees per frame with 4 controls and 40 frames).
        climb_deg: largest angle of a leg above or below the horizontal, degrees.
        pitch_range_deg: ``(min, max)`` view pitch of travel-looking paths, degrees.
        look_at_prob: probability that a path looks at a fixed point.
        checks_per_step: extra collision checks between consecutive frames (thin walls).
        max_tries: rejected draws allowed per path before giving up.
        up: world up (module docstring).
        convention: world and camera axes of the input and the result.

    Returns:
        ``n_paths`` lists of ``frames_per_path`` ``[4, 4]`` float64 camera-to-world
        matrices.

    Raises:
        ValueError: bad bounds (not ``[2, 3]``, min >= max), counts or ranges.
        RuntimeError: ``max_tries`` draws in a row were rejected (names how many
            failed the box and how many ``is_free``): the box is mostly blocked or the
            paths are too long for it.
    """
    frame = _Frame(convention, up)
    box, n_paths, frames, lo_step, hi_step = _random_path_args(
        bounds, n_paths, frames_per_path, frame, step_range, num_controls, look_at_prob, max_tries, checks_per_step)
    free = is_free if is_free is not None else (lambda p: True)
    up_in = frame.up_in
    e1, e2 = frame.horizontal_basis()

    def inside(p: np.ndarray) -> bool:
        return bool(np.all(p >= box[0]) and np.all(p <= box[1]))

    paths: list[list[np.ndarray]] = []
    for _ in range(n_paths):
        out_of_box = blocked = 0
        for _attempt in range(max_tries):
            start = box[0] + rng.random(3) * (box[1] - box[0])
            step = rng.uniform(lo_step, hi_step)
            leg = step * (frames - 1) / (num_controls - 1)
            heading = rng.uniform(0, 2 * np.pi)
            controls = [start]
            for _leg in range(num_controls - 1):
                heading += np.radians(rng.uniform(-turn_deg, turn_deg))
                climb = np.radians(rng.uniform(-climb_deg, climb_deg))
                d = (np.cos(climb) * (np.cos(heading) * e1 + np.sin(heading) * e2)
                     + np.sin(climb) * up_in)
                controls.append(controls[-1] + leg * d)
            dense, _ = catmull_rom(np.array(controls), (frames - 1) * (checks_per_step + 1) + 1)
            if not all(inside(p) for p in dense):
                out_of_box += 1
                continue
            if not all(free(p.copy()) for p in dense):
                blocked += 1
                continue
            pos = dense[::checks_per_step + 1]
            _, tan = catmull_rom(np.array(controls), frames)
            fwd = None
            if rng.random() < look_at_prob:
                # a target far enough that no camera turns faster than ~3 degrees per frame
                for _t in range(20):
                    cand = box[0] + rng.random(3) * (box[1] - box[0])
                    d = cand - pos
                    dist = np.linalg.norm(d, axis=1)
                    steep = np.abs(d @ up_in) > dist * math.sin(math.radians(_MAX_PITCH_DEG))
                    if dist.min() > 20.0 * step and not steep.any():
                        fwd = d
                        break
            if fwd is None:
                pitch = rng.uniform(*pitch_range_deg)
                phase, amp = rng.uniform(0, 2 * np.pi), rng.uniform(0.0, 10.0)
                t = np.linspace(0.0, 1.0, frames)
                fwd = _level_forward(tan, up_in, pitch, amp * np.sin(2 * np.pi * t + phase))
            paths.append(_poses(frame, pos, fwd))
            break
        else:
            raise RuntimeError(f"random_trajectories: {max_tries} draws in a row were rejected "
                               f"({out_of_box} left the box, "
                               f"{blocked} failed is_free); enlarge the box, free more space "
                               "or shorten the paths (frames_per_path, step_range)")
    return paths
