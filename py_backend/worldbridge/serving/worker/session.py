"""A session's state inside a render worker: scene memory, generator, output spec."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from worldbridge.generators import (
    FrameGenerator,
    GenerationContext,
    GeneratorOptions,
    create_generator,
    pose_seed,
)
from worldbridge.geometry.views import Camera, PosedView, ReferenceView
from worldbridge.memory import DEFAULT_MAX_POINTS, DEFAULT_VOXEL_SIZE, SceneMemory
from worldbridge.memory.anchors import add_view, depth_scale
from worldbridge.wire.texture import encode_texture

__all__ = ["OutputSpec", "WorkerSession", "RenderedFrame", "MAX_KEYFRAME_REFERENCES", "BYTES_PER_POINT"]


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


BYTES_PER_POINT = 40
"""Scene-memory bytes per anchor point (position, colour, voxel key, view id, voxel counter),
measured on :class:`~worldbridge.memory.SceneMemory`, rounded up."""

MAX_KEYFRAME_REFERENCES = 32
"""Keyframes kept as candidate reference views per session (the oldest are dropped first;
their points stay in the scene memory under its own capacity policy)."""


class WorkerSession:
    """Scene memory + generator for one engine session, pinned to one worker.

    Args:
        views: the session's engine reference views, each with ``rgb`` (required) and
            ``depth`` (metres, 0 = invalid, +inf = sky) or None. Views with depth are lifted
            into the point cloud by the one anchor builder
            (:func:`~worldbridge.memory.anchors.add_view`, sky lifted far away); every view
            is a candidate reference view of the frame model.
        generator: a generator name (see :mod:`worldbridge.generators.registry`).
        output: the output texture spec.
        seed: session noise seed.
        options: the worker's generator options; ``anchor_lock`` may already carry the
            session's own choice.

    Raises:
        UnknownGeneratorError: for an unknown generator name.
        GeneratorUnavailableError: a generator without weights on this worker.
    """

    def __init__(self, views: list[PosedView], generator: str, output: OutputSpec, seed: int,
                 max_points: int = DEFAULT_MAX_POINTS,
                 voxel_size: float = DEFAULT_VOXEL_SIZE,
                 options: GeneratorOptions | None = None):
        self.generator: FrameGenerator = create_generator(generator, options)
        self.output = output
        self.seed = int(seed)
        self.memory = SceneMemory(max_points=max_points, voxel_size=voxel_size)
        self._view_ids = itertools.count()
        self.references: list[ReferenceView] = []
        scales = [depth_scale(v.depth) for v in views if v.depth is not None]
        fallback = float(np.median(scales)) if scales else 1.0
        for v in views:
            if v.rgb is None:
                raise ValueError("a session's reference views need rgb")
            if v.depth is not None:
                add_view(self.memory, v, reference=True)
            scale = depth_scale(v.depth) if v.depth is not None else fallback
            self.references.append(ReferenceView(next(self._view_ids), v.rgb, v.camera, scale))
        self.frames_served = 0

    @staticmethod
    def estimate_open_bytes(views: list[PosedView], output: OutputSpec,
                            max_points: int = DEFAULT_MAX_POINTS) -> int:
        """Upper estimate, bytes, of what a session opened from ``views`` holds: the reference
        images, one anchor point per depth pixel (capped at ``max_points``) and room for
        :data:`MAX_KEYFRAME_REFERENCES` keyframe images at the output size."""
        images = sum((v.rgb.nbytes if v.rgb is not None else 0) + (v.depth.nbytes if v.depth is not None else 0)
                     for v in views)
        points = min(max_points, sum(v.depth.size for v in views if v.depth is not None))
        keyframes = MAX_KEYFRAME_REFERENCES * output.width * output.height * 3
        return images + points * BYTES_PER_POINT + keyframes

    def estimated_bytes(self) -> int:
        """Current estimate, bytes, of this session's state (memory points and reference images)."""
        return (self.memory.num_points * BYTES_PER_POINT
                + sum(r.rgb.nbytes for r in self.references))

    def render(self, camera: Camera, depth: np.ndarray | None = None,
               keyframe: bool = False) -> RenderedFrame:
        """Render one frame at the output size.

        Args:
            camera: the engine camera (OpenCV c2w, metres); its intrinsics are rescaled to the
                output size when they differ.
            depth: ``[h, w]`` float32 engine depth at this pose (planar z metres, +inf sky),
                needed for ``keyframe``.
            keyframe: lift the served frame into the memory with ``depth`` and make it a
                candidate reference view.
        """
        out = self.output
        target = camera.scaled_to(out.width, out.height)
        t0 = time.perf_counter()
        anchor = self.memory.render_camera(target)
        t1 = time.perf_counter()
        ctx = GenerationContext(anchor_rgb=anchor.image, anchor_depth=anchor.depth,
                                anchor_mask=anchor.mask, target=target,
                                references=self.references, seed=pose_seed(self.seed, target.c2w))
        rgb = self.generator.generate(ctx)
        t2 = time.perf_counter()
        texture = encode_texture(rgb, out.format, out.row_order, out.jpeg_quality)
        t3 = time.perf_counter()
        if keyframe and depth is not None:
            if depth.shape != rgb.shape[:2]:
                depth = cv2.resize(depth, (out.width, out.height), interpolation=cv2.INTER_NEAREST)
            add_view(self.memory, PosedView(target, rgb, depth), reference=False)
            self._add_keyframe_reference(rgb, target, depth_scale(depth))
        self.frames_served += 1
        return RenderedFrame(texture=texture, anchor_ms=(t1 - t0) * 1e3, model_ms=(t2 - t1) * 1e3,
                             encode_ms=(t3 - t2) * 1e3, coverage=float(anchor.mask.mean()), rgb=rgb)

    def _add_keyframe_reference(self, rgb: np.ndarray, camera: Camera, scale: float) -> None:
        self.references.append(ReferenceView(next(self._view_ids), rgb, camera, scale,
                                             keyframe=True))
        keyframes = [i for i, r in enumerate(self.references) if r.keyframe]
        if len(keyframes) > MAX_KEYFRAME_REFERENCES:
            del self.references[keyframes[0]]
