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


def record_synthetic_scene(root, name: str = "scene", frames: int = 20, size: int = 64, seed: int = 0,
                           width: int | None = None):
    """Record a small dataset of a textured box room seen by a camera sliding and turning.

    The views are exact renders of a known coloured point cloud (the z-buffer renderer), so
    depth and poses are ground truth; ``width`` (default ``size``) makes non-square frames
    ``size`` pixels high. Returns the dataset path.
    """
    from worldbridge.geometry import Convention, Intrinsics
    from worldbridge.recording import DatasetWriter
    from worldbridge.render import render_points

    rng = np.random.default_rng(seed)
    # walls of a 6 x 4 x 6 m room, 1 cm-ish point spacing in texture blocks
    u = rng.uniform(-3, 3, 120_000)
    v = rng.uniform(-2, 2, 120_000)
    walls = [np.stack([u, v, np.full_like(u, 4.0)], 1), np.stack([np.full_like(u, -3.0), v, u], 1),
             np.stack([np.full_like(u, 3.0), v, u], 1), np.stack([u, np.full_like(u, 1.5), v * 1.5], 1)]
    pts = np.concatenate(walls).astype(np.float32)
    cells = np.floor(pts * 2.0).astype(np.int64)
    palette = rng.integers(0, 256, (4096, 3), dtype=np.uint8)
    cols = palette[(cells[:, 0] * 73 + cells[:, 1] * 151 + cells[:, 2] * 37) % 4096]
    frame_w = size if width is None else width
    k = Intrinsics.from_vertical_fov(70.0, frame_w, size)
    with DatasetWriter(root, name) as w:
        for i in range(frames):
            a = 0.15 * np.sin(i / 6.0)
            c2w = np.eye(4)
            c2w[:3, :3] = [[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]
            c2w[:3, 3] = [0.08 * i - 0.8, 0.0, -0.5 + 0.03 * i]
            r = render_points(pts, cols, np.linalg.inv(c2w), k.K, size, frame_w)
            w.add_frame(r.image, r.depth, k, c2w, c2w, Convention.OPENCV, i * 33_000, i)
    return root / name


def save_tiny_teacher(path, seed: int = 0):
    """Save a fresh tiny :class:`~worldbridge.models.FrameModel` as a frame-model checkpoint.

    Its final layer gets small random weights (it is zero-initialised), so its noise
    predictions depend on the inputs, as a trained teacher's do. Returns the checkpoint path.
    """
    import torch

    from worldbridge.models import FrameModel, FrameModelConfig, save_checkpoint

    torch.manual_seed(seed)
    model = FrameModel(FrameModelConfig.tiny())
    with torch.no_grad():
        model.final_layer.linear.weight.normal_(std=0.05)
    return save_checkpoint(model, path, extra={"stage": "II", "step": 0})


def wait_until(predicate, timeout_s: float = 30.0, poll_s: float = 0.05) -> None:
    """Poll ``predicate`` until it is true.

    Raises:
        TimeoutError: still false after ``timeout_s`` seconds.
    """
    import time

    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not reached in {timeout_s} s")
        time.sleep(poll_s)
