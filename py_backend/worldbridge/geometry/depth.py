"""Depth images: decoding the wire encodings to planar z in metres, and back.

Inside the backend a depth map is ``[H, W]`` float32 planar z (distance along the camera's
optical axis, OpenCV +Z) in metres. Two values are special, on the wire and inside:

* ``0``: invalid or unknown (no surface information; the pixel is not lifted);
* ``+inf``: sky / background infinitely far away (lifted as a direction, see
  :mod:`worldbridge.serving.worker.session`). ``UINT16_MM`` cannot express it: there 0 is all.

On the wire a depth image has an encoding (float32 metres, float16 metres, uint16
millimetres), a kind (planar z or ray distance from the camera centre) and raw
little-endian bytes in row-major order, top row first. NaN and negative values are rejected.
"""

from __future__ import annotations

import enum
from typing import Any

import numpy as np

from worldbridge.errors import InvalidInput
from worldbridge.geometry.intrinsics import Intrinsics

__all__ = ["DepthEncoding", "DepthKind", "DepthError", "decode_depth", "encode_depth",
           "ray_to_planar"]


class DepthEncoding(enum.IntEnum):
    """Wire depth encodings; values equal ``worldbridge.v1.DepthEncoding``."""

    UNSPECIFIED = 0
    FLOAT32_M = 1
    FLOAT16_M = 2
    UINT16_MM = 3


class DepthKind(enum.IntEnum):
    """What a depth value measures; values equal ``worldbridge.v1.DepthKind``."""

    UNSPECIFIED = 0
    PLANAR_Z = 1
    RAY_DISTANCE = 2


class DepthError(InvalidInput):
    """A depth image whose size, byte length, encoding or values are wrong."""


_DTYPES: dict[DepthEncoding, np.dtype[Any]] = {
    DepthEncoding.FLOAT32_M: np.dtype("<f4"), DepthEncoding.FLOAT16_M: np.dtype("<f2"),
    DepthEncoding.UINT16_MM: np.dtype("<u2")}


def ray_to_planar(ray: np.ndarray, intrinsics: Intrinsics) -> np.ndarray:
    """Convert ray distance (camera centre to surface) to planar z.

    ``z = d / sqrt(((u - cx) / fx)^2 + ((v - cy) / fy)^2 + 1)`` at pixel centres
    ``(u, v) = (col + 0.5, row + 0.5)``.

    Args:
        ray: ``[H, W]`` float32 ray distances, metres.
        intrinsics: the camera, same size as ``ray``.

    Returns:
        ``[H, W]`` float32 planar z, metres.
    """
    h, w = ray.shape
    u = (np.arange(w, dtype=np.float32) + 0.5 - intrinsics.cx) / intrinsics.fx
    v = (np.arange(h, dtype=np.float32) + 0.5 - intrinsics.cy) / intrinsics.fy
    norm = np.sqrt(u[None, :] ** 2 + v[:, None] ** 2 + 1.0)
    return (ray / norm).astype(np.float32)


def decode_depth(data: bytes, width: int, height: int, encoding: int, kind: int,
                 intrinsics: Intrinsics | None = None) -> np.ndarray:
    """Decode wire depth bytes to ``[H, W]`` float32 planar z in metres (0 = invalid,
    +inf = sky).

    Args:
        data: raw little-endian bytes, row-major, top row first.
        width, height: image size in pixels.
        encoding: a :class:`DepthEncoding`.
        kind: a :class:`DepthKind`; ``RAY_DISTANCE`` needs ``intrinsics``.
        intrinsics: the depth camera (required for ray distance), size ``width x height``.

    Raises:
        DepthError: unknown encoding/kind, byte length that does not match the size,
            NaN or negative values, or ray distance without matching intrinsics.
    """
    try:
        enc = DepthEncoding(int(encoding))
        knd = DepthKind(int(kind))
    except ValueError as e:
        raise DepthError(f"depth: {e}") from None
    if enc is DepthEncoding.UNSPECIFIED:
        raise DepthError("depth encoding is UNSPECIFIED; use FLOAT32_M, FLOAT16_M or UINT16_MM")
    if knd is DepthKind.UNSPECIFIED:
        raise DepthError("depth kind is UNSPECIFIED; use PLANAR_Z or RAY_DISTANCE")
    if width <= 0 or height <= 0:
        raise DepthError(f"depth size must be > 0, got {width}x{height}")
    dt = _DTYPES[enc]
    expected = width * height * dt.itemsize
    if len(data) != expected:
        raise DepthError(f"depth is {width}x{height} {enc.name} and needs {expected} bytes, "
                         f"got {len(data)}")
    raw = np.frombuffer(data, dtype=dt).reshape(height, width)
    if enc is DepthEncoding.UINT16_MM:
        z = raw.astype(np.float32) * np.float32(1e-3)
    else:
        z = raw.astype(np.float32)
        if np.isnan(z).any():
            raise DepthError(f"depth has {int(np.isnan(z).sum())} NaN values; mark invalid "
                             "pixels with 0 or +inf")
        if (z < 0).any():
            raise DepthError(f"depth has negative values (min {float(z.min())} m)")
    if knd is DepthKind.RAY_DISTANCE:
        if intrinsics is None or (intrinsics.width, intrinsics.height) != (width, height):
            raise DepthError("RAY_DISTANCE depth needs intrinsics of the same size as the depth "
                             f"image ({width}x{height})")
        z = ray_to_planar(z, intrinsics)
    return z


def encode_depth(z: np.ndarray, encoding: int = DepthEncoding.FLOAT32_M) -> bytes:
    """Encode ``[H, W]`` planar z metres (0 = invalid, +inf = sky) to wire bytes.

    ``UINT16_MM`` rounds to millimetres; values above 65.535 m and +inf become 0 (invalid).

    Raises:
        DepthError: unknown encoding.
    """
    try:
        enc = DepthEncoding(int(encoding))
        dt = _DTYPES[enc]
    except (ValueError, KeyError):
        raise DepthError(f"cannot encode depth as {encoding!r}") from None
    z = np.asarray(z, dtype=np.float32)
    if enc is DepthEncoding.UINT16_MM:
        mm = np.where(np.isfinite(z), np.round(z * 1000.0), 0.0)
        mm[(mm > 65535) | (mm < 0)] = 0
        return mm.astype(dt).tobytes()
    return z.astype(dt).tobytes()
