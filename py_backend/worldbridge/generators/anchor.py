"""The ``anchor`` generator: the point-cloud render with its holes filled. No weights."""

from __future__ import annotations

import numpy as np

from worldbridge.generators.base import GenerationContext
from worldbridge.render.holes import fill_holes

__all__ = ["AnchorGenerator", "fill_holes"]


class AnchorGenerator:
    """Returns the anchor render with holes filled by their nearest covered pixel
    (:func:`~worldbridge.render.holes.fill_holes`)."""

    name = "anchor"
    description = "point-cloud anchor render with nearest-neighbour hole filling (no weights)"

    def generate(self, ctx: GenerationContext) -> np.ndarray:
        """See :class:`~worldbridge.generators.base.FrameGenerator`."""
        return fill_holes(ctx.anchor_rgb, ctx.anchor_mask)
