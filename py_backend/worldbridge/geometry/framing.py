"""Square framing: how a W x H frame maps onto the frame model's S x S image, and back.

The frame model works on square images. A frame of another shape is never squashed (that
would change its focal lengths differently along x and y); it is either

* **cropped** (``mode="crop"``): the centred ``side = min(W, H)`` square is kept, what
  training does with recorded frames (:func:`~worldbridge.training.clips.crop_resize`); or
* **padded** (``mode="pad"``): the frame is centred in a ``side = max(W, H)`` square and the
  bands outside it are empty (no anchor, nothing to keep), what serving does, since every
  pixel of the engine's frame must come back.

Then the square is resized to S x S. The intrinsics follow exactly: the principal point
moves by the window's offset and everything scales by ``S / side`` (OpenCV's continuous
pixel coordinates, in which ``cv2.resize`` maps ``u`` to ``u * S / side``).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from worldbridge.geometry.intrinsics import Intrinsics

__all__ = ["SquareFit"]

_MODES = ("crop", "pad")


@dataclass(frozen=True)
class SquareFit:
    """The square window of a W x H frame that becomes the model's S x S image.

    Attributes:
        width, height: the frame, pixels.
        size: S, the model's image side, pixels.
        mode: ``"crop"`` or ``"pad"``.
        x0, y0: top-left corner of the square window in frame pixels (negative when padding).
        side: the window's side in frame pixels.
    """

    width: int
    height: int
    size: int
    mode: str
    x0: int
    y0: int
    side: int

    @classmethod
    def of(cls, width: int, height: int, size: int, mode: str) -> SquareFit:
        """The centred square window of a ``width x height`` frame.

        Raises:
            ValueError: a non-positive size or an unknown mode.
        """
        if mode not in _MODES:
            raise ValueError(f"square framing mode must be one of {_MODES}, got {mode!r}")
        for name, v in (("width", width), ("height", height), ("size", size)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        side = min(width, height) if mode == "crop" else max(width, height)
        return cls(int(width), int(height), int(size), mode, (width - side) // 2,
                   (height - side) // 2, int(side))

    @property
    def identity(self) -> bool:
        """True when the frame already is the S x S image."""
        return self.width == self.height == self.size

    def intrinsics(self, k: Intrinsics) -> Intrinsics:
        """The S x S camera of the square image.

        Raises:
            ValueError: ``k`` is for another frame size.
        """
        if (k.width, k.height) != (self.width, self.height):
            raise ValueError(f"intrinsics are for {k.width}x{k.height}, the frame is "
                             f"{self.width}x{self.height}")
        square = Intrinsics(k.fx, k.fy, k.cx - self.x0, k.cy - self.y0, self.side, self.side)
        return square.scaled(self.size, self.size)

    def window(self, image: np.ndarray, fill: float | int = 0) -> np.ndarray:
        """The ``side x side`` window of a ``[H, W, ...]`` frame image (``fill`` outside it)."""
        if image.shape[:2] != (self.height, self.width):
            raise ValueError(f"image is {list(image.shape)}, the frame is "
                             f"{self.width}x{self.height} (width x height)")
        if self.mode == "crop":
            return image[self.y0:self.y0 + self.side, self.x0:self.x0 + self.side]
        out = np.full((self.side, self.side) + image.shape[2:], fill, dtype=image.dtype)
        out[-self.y0:-self.y0 + self.height, -self.x0:-self.x0 + self.width] = image
        return out

    def to_square(self, image: np.ndarray, interpolation: int, fill: float | int = 0) -> np.ndarray:
        """The frame image as the model's S x S image (window, then resize)."""
        w = self.window(image, fill)
        if self.side == self.size:
            return np.ascontiguousarray(w)
        return cv2.resize(w, (self.size, self.size), interpolation=interpolation)

    def from_square(self, square: np.ndarray, interpolation: int = cv2.INTER_CUBIC) -> np.ndarray:
        """An S x S model image back on the frame (resize to the window, keep the frame's part).

        In crop mode the frame's pixels outside the window are not covered by the square;
        they are filled from the nearest window edge (``cv2.BORDER_REPLICATE``).
        """
        if square.shape[:2] != (self.size, self.size):
            raise ValueError(f"square image is {list(square.shape)}, expected {self.size}x{self.size}")
        big = square if self.side == self.size else cv2.resize(
            square, (self.side, self.side), interpolation=interpolation)
        if self.mode == "pad":
            return np.ascontiguousarray(big[-self.y0:-self.y0 + self.height,
                                            -self.x0:-self.x0 + self.width])
        return cv2.copyMakeBorder(big, self.y0, self.height - self.side - self.y0, self.x0,
                                  self.width - self.side - self.x0, cv2.BORDER_REPLICATE)
