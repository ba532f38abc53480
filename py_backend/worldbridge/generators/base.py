"""The frame-generator interface: what turns an anchor render into a frame.

A generator is created once per session inside a render worker and called once per frame
with a :class:`GenerationContext`. Implementations: ``anchor`` (no weights, this package);
the neural frame model plugs into the same slot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from worldbridge.geometry.views import Camera, ReferenceView

__all__ = ["GenerationContext", "FrameGenerator", "pose_seed"]


@dataclass
class GenerationContext:
    """Everything a generator may use for one frame (OpenCV conventions, metres).

    Attributes:
        anchor_rgb: ``[H, W, 3]`` uint8 point-cloud render at the target pose (0 on holes).
        anchor_depth: ``[H, W]`` float32 planar z of the anchor render, metres (0 on holes).
        anchor_mask: ``[H, W]`` bool, True where an anchor point landed.
        target: the target camera (OpenCV c2w, metres; intrinsics of size ``W x H``).
        references: the session's reference views and keyframes, oldest first (the frame
            model takes the nearest as its reference view).
        seed: per-frame noise seed (:func:`pose_seed`): same pose, same seed.
    """

    anchor_rgb: np.ndarray
    anchor_depth: np.ndarray
    anchor_mask: np.ndarray
    target: Camera
    references: Sequence[ReferenceView]
    seed: int


@runtime_checkable
class FrameGenerator(Protocol):
    """A frame generator.

    ``generate`` returns ``[H, W, 3]`` uint8 RGB at the target intrinsics' size, top row
    first. It must be deterministic for a given context (including ``seed``).
    """

    name: str

    def generate(self, ctx: GenerationContext) -> np.ndarray: ...


def pose_seed(session_seed: int, c2w: np.ndarray, quantum_m: float = 1e-4) -> int:
    """Noise seed for a frame from the session seed and the pose.

    The pose is quantised (``quantum_m`` metres for translation and the same step for the
    rotation entries) so that a camera that stands still, up to float noise from the engine,
    gets the same seed and therefore the same image (no flicker).

    Returns:
        A 63-bit non-negative int.
    """
    q = np.round(np.asarray(c2w, dtype=np.float64)[:3, :4] / quantum_m).astype(np.int64)
    h = hashlib.blake2b(q.tobytes(), digest_size=8, key=int(session_seed).to_bytes(8, "little", signed=False))
    return int.from_bytes(h.digest(), "little") >> 1
