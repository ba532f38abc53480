"""Anchor renderer: z-buffer projection of a coloured (or latent) point cloud.

OpenCV conventions, metres, world-to-camera poses; see :mod:`worldbridge.render.zbuffer`.
"""

from worldbridge.render.zbuffer import (
    BACKENDS,
    DEFAULT_NEAR,
    AnchorRender,
    render_points,
    warmup,
)

__all__ = ["AnchorRender", "render_points", "warmup", "BACKENDS", "DEFAULT_NEAR"]
