"""The fills a user would get without a frame model, for the extrapolation protocol.

* ``"nearest"``: every hole pixel takes the colour of the nearest covered pixel
  (:func:`worldbridge.generators.anchor.fill_holes`, what the ``anchor`` generator serves).
* ``"telea"``: :func:`telea_fill`, OpenCV's fast-marching inpainting (Telea, "An Image
  Inpainting Technique Based on the Fast Marching Method", Journal of Graphics Tools
  9(1), 2004), which propagates smooth colour inwards from the hole's border.

Both take the anchor render (uint8 ``[H, W, 3]``) and its coverage mask and return a full
frame equal to the anchor render where it is covered.
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np

from worldbridge.generators.anchor import fill_holes

__all__ = ["telea_fill", "BASELINE_FILLS"]

_EMPTY_GREY = 128


def telea_fill(rgb: Any, mask: Any, radius: int = 3) -> np.ndarray:
    """Inpaint the uncovered pixels of an anchor render with Telea's method (OpenCV).

    ``cv2.inpaint(rgb, ~mask, radius, cv2.INPAINT_TELEA)``: each hole pixel, in order of
    distance from the hole border (fast marching), becomes a weighted first-order
    extrapolation of the already known pixels within ``radius``; each channel
    independently, so the channel order (RGB or BGR) does not matter. With no covered
    pixel at all the frame is mid-grey (128), as :func:`~worldbridge.generators.anchor.
    fill_holes` returns; with no hole it is a copy.

    Args:
        rgb: ``[H, W, 3]`` uint8 anchor render (numpy).
        mask: ``[H, W]`` bool (or {0, 1}) coverage mask, True on covered pixels.
        radius: neighbourhood radius of the inpainting, pixels (integer >= 1).

    Returns:
        ``[H, W, 3]`` uint8, equal to ``rgb`` on covered pixels.

    Raises:
        ValueError: ``rgb`` not a uint8 ``[H, W, 3]`` numpy array, a mask of another size
            or dtype, or a radius that is not an integer >= 1.
    """
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 \
            or rgb.shape[2] != 3:
        got = f"{rgb.dtype} {list(rgb.shape)}" if isinstance(rgb, np.ndarray) else \
            type(rgb).__name__
        raise ValueError(f"rgb must be a uint8 [H, W, 3] numpy array, got {got}")
    m = np.asarray(mask)
    if m.shape != rgb.shape[:2] or m.dtype.kind not in "biu":
        raise ValueError(f"mask must be a bool [H, W] = {list(rgb.shape[:2])} array, got "
                         f"{m.dtype} {list(m.shape)}")
    try:
        r = operator.index(radius)
    except TypeError:
        raise ValueError(f"radius must be an integer >= 1 (pixels), got {radius!r}") from None
    if isinstance(radius, bool) or not isinstance(radius, numbers.Integral) or r < 1:
        raise ValueError(f"radius must be an integer >= 1 (pixels), got {radius!r}")
    covered = m != 0
    if covered.all():
        return rgb.copy()
    if not covered.any():
        return np.full_like(rgb, _EMPTY_GREY)
    holes = (~covered).astype(np.uint8)
    out = cv2.inpaint(np.ascontiguousarray(rgb), holes, float(r), cv2.INPAINT_TELEA)
    out[covered] = rgb[covered]  # inpaint leaves them alone; make it a guarantee
    return out


BASELINE_FILLS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "nearest": fill_holes,
    "telea": telea_fill,
}
"""Baseline name -> ``fill(rgb uint8 [H, W, 3], mask bool [H, W]) -> uint8 [H, W, 3]``."""
