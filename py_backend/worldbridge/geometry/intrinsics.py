"""Pinhole intrinsics: the K matrix and the engines' field-of-view helpers.

Pixel coordinates follow OpenCV: the centre of the top-left pixel is (0.5, 0.5) in the
continuous image plane, u grows right and v grows down; ``cx = width / 2`` is the image
centre. Square pixels are assumed by the FOV helpers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from worldbridge.errors import InvalidInput

__all__ = ["Intrinsics", "IntrinsicsError"]


class IntrinsicsError(InvalidInput):
    """Intrinsics that are non-finite, non-positive or out of range."""


@dataclass(frozen=True)
class Intrinsics:
    """Pinhole camera intrinsics in pixels.

    Attributes:
        fx, fy: focal lengths, pixels.
        cx, cy: principal point, pixels (OpenCV: from the top-left corner of the image).
        width, height: image size, pixels.
    """

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    def __post_init__(self) -> None:
        for name in ("fx", "fy", "cx", "cy"):
            v = getattr(self, name)
            if not math.isfinite(v):
                raise IntrinsicsError(f"intrinsics {name} must be finite, got {v}")
        if self.fx <= 0 or self.fy <= 0:
            raise IntrinsicsError(f"focal lengths must be > 0, got fx={self.fx}, fy={self.fy}")
        if self.width <= 0 or self.height <= 0:
            raise IntrinsicsError(f"image size must be > 0, got {self.width}x{self.height}")

    @property
    def K(self) -> np.ndarray:  # noqa: N802 (the field's name for it)
        """``[3, 3]`` float64 camera matrix."""
        return np.array([[self.fx, 0.0, self.cx], [0.0, self.fy, self.cy], [0.0, 0.0, 1.0]])

    @classmethod
    def from_horizontal_fov(cls, fov_x_deg: float, width: int, height: int) -> Intrinsics:
        """From a horizontal field of view in degrees (Unreal's ``FieldOfView``).

        Raises:
            IntrinsicsError: FOV outside (0, 180) degrees or bad size.
        """
        if not (0.0 < fov_x_deg < 180.0):
            raise IntrinsicsError(f"horizontal FOV must be in (0, 180) degrees, got {fov_x_deg}")
        f = 0.5 * width / math.tan(math.radians(fov_x_deg) / 2.0)
        return cls(f, f, width / 2.0, height / 2.0, int(width), int(height))

    @classmethod
    def from_vertical_fov(cls, fov_y_deg: float, width: int, height: int) -> Intrinsics:
        """From a vertical field of view in degrees (Unity's ``Camera.fieldOfView``).

        Raises:
            IntrinsicsError: FOV outside (0, 180) degrees or bad size.
        """
        if not (0.0 < fov_y_deg < 180.0):
            raise IntrinsicsError(f"vertical FOV must be in (0, 180) degrees, got {fov_y_deg}")
        f = 0.5 * height / math.tan(math.radians(fov_y_deg) / 2.0)
        return cls(f, f, width / 2.0, height / 2.0, int(width), int(height))

    def scaled(self, width: int, height: int) -> Intrinsics:
        """The same camera for another resolution (focal lengths and centre scale with it)."""
        sx, sy = width / self.width, height / self.height
        return Intrinsics(self.fx * sx, self.fy * sy, self.cx * sx, self.cy * sy, int(width), int(height))
