"""A session's state inside a render worker: scene memory, generator, output spec."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from worldbridge.generators import FrameGenerator, GenerationContext, create_generator, pose_seed
from worldbridge.geometry import Intrinsics
from worldbridge.memory import DEFAULT_MAX_POINTS, DEFAULT_VOXEL_SIZE, SceneMemory
from worldbridge.serving.texture import encode_texture

__all__ = ["OutputSpec", "WorkerSession", "RenderedFrame", "SKY_DEPTH_M"]


@dataclass(frozen=True)
class OutputSpec:
    """What each frame of a session leaves as: size, wire format, row order, JPEG quality."""

    width: int
    height: int
    format: int
    row_order: int
    jpeg_quality: int = 90


@dataclass
class RenderedFrame:
    """One frame's texture bytes, per-stage timings (ms) and anchor coverage (0..1)."""

    texture: bytes
    anchor_ms: float
    model_ms: float
    encode_ms: float
    coverage: float
    rgb: np.ndarray | None = field(default=None, repr=False)


SKY_DEPTH_M = 1.0e4
"""Where reference-view sky pixels (depth +inf) are placed along their rays, metres."""


class WorkerSession:
    """Scene memory + generator for one engine session, pinned to one worker.

    Args:
        views: list of dicts with ``rgb`` ``[H, W, 3]`` uint8, ``depth`` ``[H, W]`` float32
            metres (0 = invalid, +inf = sky) or None, ``c2w`` ``[4, 4]`` OpenCV, ``intrinsics`` :class:`Intrinsics`.
            Views with depth are lifted into the point cloud; the first is the reference view.
        generator: a generator name (see :mod:`worldbridge.generators.registry`).
        output: the output texture spec.
        seed: session noise seed.

    Raises:
        UnknownGeneratorError: for an unknown generator name.
    """

    def __init__(self, views: list[dict], generator: str, output: OutputSpec, seed: int,
                 max_points: int = DEFAULT_MAX_POINTS,
                 voxel_size: float = DEFAULT_VOXEL_SIZE):
        self.generator: FrameGenerator = create_generator(generator)
        self.output = output
        self.seed = int(seed)
        self.memory = SceneMemory(max_points=max_points, voxel_size=voxel_size)
        for v in views:
            if v["depth"] is not None:
                self.memory.add_view(v["rgb"], v["depth"], v["intrinsics"].K, v["c2w"], reference=True)
                sky = np.isposinf(v["depth"])
                if sky.any():
                    # sky pixels become points SKY_DEPTH_M away along their rays: no visible
                    # parallax for any camera near the scene, behind every real surface
                    sky_depth = np.where(sky, np.float32(SKY_DEPTH_M), np.float32(0))
                    self.memory.add_view(v["rgb"], sky_depth, v["intrinsics"].K, v["c2w"],
                                         reference=True)
        ref = views[0]
        self.reference_rgb = ref["rgb"]
        self.reference_c2w = ref["c2w"]
        self.reference_intrinsics = ref["intrinsics"]
        self.frames_served = 0

    def render(self, c2w: np.ndarray, intrinsics: Intrinsics, depth: np.ndarray | None = None,
               keyframe: bool = False) -> RenderedFrame:
        """Render one frame at the output size.

        Args:
            c2w: ``[4, 4]`` float64 OpenCV camera-to-world, metres.
            intrinsics: the engine camera; rescaled to the output size when they differ.
            depth: ``[h, w]`` float32 engine depth at this pose (planar z metres), needed for
                ``keyframe``.
            keyframe: lift the generated frame into the memory with ``depth``.
        """
        out = self.output
        k = intrinsics if (intrinsics.width, intrinsics.height) == (out.width, out.height) \
            else intrinsics.scaled(out.width, out.height)
        t0 = time.perf_counter()
        anchor = self.memory.render(c2w, k.K, out.height, out.width)
        t1 = time.perf_counter()
        ctx = GenerationContext(
            anchor_rgb=anchor.image, anchor_depth=anchor.depth, anchor_mask=anchor.mask,
            target_c2w=c2w, target_intrinsics=k, reference_rgb=self.reference_rgb,
            reference_c2w=self.reference_c2w, reference_intrinsics=self.reference_intrinsics,
            seed=pose_seed(self.seed, c2w))
        rgb = self.generator.generate(ctx)
        t2 = time.perf_counter()
        texture = encode_texture(rgb, out.format, out.row_order, out.jpeg_quality)
        t3 = time.perf_counter()
        if keyframe and depth is not None:
            if depth.shape != rgb.shape[:2]:
                depth = cv2.resize(depth, (out.width, out.height), interpolation=cv2.INTER_NEAREST)
            self.memory.add_view(rgb, depth, k.K, c2w)
        self.frames_served += 1
        return RenderedFrame(texture=texture, anchor_ms=(t1 - t0) * 1e3, model_ms=(t2 - t1) * 1e3,
                             encode_ms=(t3 - t2) * 1e3, coverage=float(anchor.mask.mean()), rgb=rgb)
