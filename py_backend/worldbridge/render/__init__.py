"""Anchor renderer: z-buffer projection of a coloured (or latent) point cloud; hole filling
and anchor-locked compositing (:mod:`worldbridge.render.holes`).

OpenCV conventions, metres, world-to-camera poses; see :mod:`worldbridge.render.zbuffer`.
"""

from worldbridge.render.holes import composite_anchor_locked, fill_holes, nearest_covered
from worldbridge.render.zbuffer import (
    BACKENDS,
    DEFAULT_NEAR,
    AnchorRender,
    render_points,
    warmup,
)

__all__ = ["AnchorRender", "render_points", "warmup", "BACKENDS", "DEFAULT_NEAR",
           "composite_anchor_locked", "fill_holes", "nearest_covered"]
