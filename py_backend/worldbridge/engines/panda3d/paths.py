"""Camera poses: OpenGL look-at poses and the demo's camera paths through the garden."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["look_at_gl", "camera_path", "PATH_KINDS"]

def look_at_gl(eye: Sequence[float] | np.ndarray, target: Sequence[float],
               up: Sequence[float] = (0.0, 0.0, 1.0)) -> np.ndarray:
    """OpenGL camera-to-world pose at ``eye`` looking at ``target``.

    Args:
        eye: camera centre ``[3]``, metres, Panda world (Z up).
        target: point to look at ``[3]``, metres.
        up: world up direction ``[3]`` (Panda's +Z).

    Returns:
        ``[4, 4]`` float64 c2w, OpenGL camera axes (X right, Y up, looking down -Z).

    Raises:
        ValueError: ``eye == target`` or viewing direction parallel to ``up``.
    """
    eye = np.asarray(eye, dtype=np.float64)
    fwd = np.asarray(target, dtype=np.float64) - eye
    n = np.linalg.norm(fwd)
    if n < 1e-9:
        raise ValueError(f"look_at_gl: eye {eye.tolist()} equals target")
    fwd /= n
    right = np.cross(fwd, np.asarray(up, dtype=np.float64))
    if np.linalg.norm(right) < 1e-9:
        raise ValueError(f"look_at_gl: view direction {fwd.tolist()} is parallel to up {up}")
    right /= np.linalg.norm(right)
    cam_up = np.cross(right, fwd)
    c2w = np.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, cam_up, -fwd, eye
    return c2w



PATH_KINDS = ("orbit", "dolly", "walk")
"""The kinds of :func:`camera_path`."""


def camera_path(n: int, kind: str = "orbit") -> list[np.ndarray]:
    """Camera poses through the garden clearing; every pose moves the camera centre.

    * ``orbit``: a 150-degree arc of radius 4.5 m around the panda at 1.8 m eye height,
      looking at the panda's chest (0, 0, 0.8); the bamboo, rocks and trees behind it slide by.
    * ``dolly``: 5.9 m straight towards the panda from the south-east, eye height sinking
      from 2.2 m to 1.5 m, looking along the track and slightly down (fixed orientation).
    * ``walk``: a gently curving walk through the clearing at 1.6 m eye height with a small
      head bob, looking along the direction of travel (a little down, a little side to side).

    All poses stay inside the bamboo ring, above the ground (z = 0), clear of the rocks.

    Args:
        n: number of poses, >= 1.
        kind: ``"orbit"``, ``"dolly"`` or ``"walk"``.

    Returns:
        ``n`` ``[4, 4]`` float64 OpenGL camera-to-world matrices (Panda world, Z up, metres).

    Raises:
        ValueError: ``n < 1`` or an unknown kind.
    """
    if int(n) < 1:
        raise ValueError(f"camera_path needs n >= 1, got {n}")
    if kind not in PATH_KINDS:
        raise ValueError(f"unknown camera path kind {kind!r}; expected one of {PATH_KINDS}")
    n = int(n)
    s = np.linspace(0.0, 1.0, n) if n > 1 else np.zeros(1)
    poses = []
    for t in s:
        if kind == "orbit":
            a = math.radians(-60.0 + 150.0 * t)
            eye = (4.5 * math.cos(a), 4.5 * math.sin(a), 1.8)
            target = (0.0, 0.0, 0.8)
        elif kind == "dolly":
            start, end = np.array([6.0, -5.5, 2.2]), np.array([2.0, -1.2, 1.5])
            eye = start + (end - start) * t
            d = (end - start) / np.linalg.norm(end - start)
            target = eye + np.array([d[0], d[1], -0.25])
        else:  # walk
            # a curve from the south-west of the clearing round behind the panda, Bezier-smooth
            p0, p1, p2, p3 = (np.array(p) for p in ([-3.5, -4.5], [3.5, -5.5], [5.5, 3.0],
                                                     [-2.5, 3.5]))
            u = 1.0 - t
            xy = u**3 * p0 + 3 * u**2 * t * p1 + 3 * u * t**2 * p2 + t**3 * p3
            dxy = 3 * u**2 * (p1 - p0) + 6 * u * t * (p2 - p1) + 3 * t**2 * (p3 - p2)
            dxy /= np.linalg.norm(dxy)
            sway = 0.25 * math.sin(2 * math.pi * 1.5 * t)
            look = np.array([dxy[0] - sway * dxy[1], dxy[1] + sway * dxy[0]])
            eye = (xy[0], xy[1], 1.6 + 0.04 * math.sin(2 * math.pi * 6.0 * t))
            target = (xy[0] + look[0], xy[1] + look[1], eye[2] - 0.2)
        poses.append(look_at_gl(eye, target))
    return poses

