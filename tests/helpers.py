"""Small helpers shared by the tests (import as ``from helpers import ...``)."""

from __future__ import annotations

import numpy as np


def random_pose(rng: np.random.Generator, translation: float = 1.0) -> np.ndarray:
    """A random rigid ``[4, 4]`` float64 transform: uniform rotation (det +1), normal translation."""
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    m = np.eye(4)
    m[:3, :3] = q
    m[:3, 3] = rng.normal(size=3) * translation
    return m
