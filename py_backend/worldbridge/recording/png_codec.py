"""PNG encoding of RGB frames and millimetre depth maps (OpenCV, tuned for speed).

Encoding is the cost of recording. On one core of the development machine (512x512) the
default zlib settings take 13-17 ms for an RGB frame; a single filter with run-length
deflate takes 1.5-7 ms at a similar size (rendered frames with flat areas: 1.6 ms and
32 KB; noisy ones: 6.7 ms and 322 KB), and depth with the ``UP`` filter at level 1 takes
2.5 ms. The files are ordinary PNGs that every decoder (Pillow, nerfstudio, OpenCV) reads.
OpenCV releases the GIL while encoding, so writer threads encode in parallel.

Depth is stored as nerfstudio reads it by default (``depth_unit_scale_factor = 1e-3``):
uint16 millimetres of planar z, rounded to the nearest millimetre (error <= 0.5 mm), 0 for
invalid, sky, non-finite or negative values and for anything beyond 65.535 m. The float32
metres the engine sent are not kept: 1 mm steps are below what the frame model and the
point-cloud memory can use, and the dropped far pixels are counted per frame
(``depth_clipped_px`` in the journal) so a lossy recording is visible.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from worldbridge.geometry import DepthEncoding, DepthKind, decode_depth, encode_depth

__all__ = ["DEPTH_MAX_M", "encode_rgb_png", "encode_depth_png", "decode_rgb_png",
           "decode_depth_png"]

DEPTH_MAX_M = 65.535
"""Largest depth a uint16 millimetre PNG holds, metres; farther pixels are stored as 0."""

_RGB_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY,
               cv2.IMWRITE_PNG_STRATEGY_RLE, cv2.IMWRITE_PNG_FILTER, cv2.IMWRITE_PNG_FILTER_SUB]
_DEPTH_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_FILTER,
                 cv2.IMWRITE_PNG_FILTER_UP]


def encode_rgb_png(bgr: np.ndarray) -> memoryview:
    """Encode an 8-bit colour image to PNG bytes.

    Args:
        bgr: ``[H, W, 3]`` uint8 in OpenCV's **BGR** channel order (convert RGB with
            ``cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)``); the file holds RGB.

    Returns:
        The PNG file contents.

    Raises:
        ValueError: OpenCV could not encode the image.
    """
    ok, buf = cv2.imencode(".png", bgr, _RGB_PARAMS)
    if not ok:
        raise ValueError(f"PNG encoding failed for an image of shape {bgr.shape}")
    return memoryview(buf)  # type: ignore[arg-type]


def encode_depth_png(depth_m: np.ndarray) -> tuple[memoryview, int]:
    """Encode planar depth in metres to a uint16 millimetre PNG.

    Args:
        depth_m: ``[H, W]`` float32 planar z (OpenCV +Z), metres; 0, +inf, NaN and
            negative values are invalid.

    Returns:
        ``(png_bytes, clipped)``: the PNG file contents and the number of finite pixels
        beyond :data:`DEPTH_MAX_M` that were stored as 0.

    Raises:
        ValueError: OpenCV could not encode the image.
    """
    h, w = depth_m.shape
    mm = np.frombuffer(encode_depth(depth_m, DepthEncoding.UINT16_MM), dtype="<u2").reshape(h, w)
    clipped = int(np.count_nonzero((mm == 0) & (depth_m > 65.0) & np.isfinite(depth_m)))
    ok, buf = cv2.imencode(".png", mm.astype(np.uint16, copy=False), _DEPTH_PARAMS)
    if not ok:
        raise ValueError(f"PNG encoding failed for a depth map of shape {depth_m.shape}")
    return memoryview(buf), clipped  # type: ignore[arg-type]


def decode_rgb_png(path: Path) -> np.ndarray:
    """Read an 8-bit colour PNG as ``[H, W, 3]`` uint8 **RGB**.

    Raises:
        ValueError: the file is missing, unreadable or not a colour image.
    """
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cannot read image {path}")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def decode_depth_png(path: Path) -> np.ndarray:
    """Read a uint16 millimetre depth PNG as ``[H, W]`` float32 planar z in metres (0 = invalid).

    Raises:
        ValueError: the file is missing, unreadable or not a single-channel 16-bit image.
    """
    mm = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if mm is None or mm.dtype != np.uint16 or mm.ndim != 2:
        what = "unreadable" if mm is None else f"{mm.dtype} with shape {mm.shape}"
        raise ValueError(f"depth image {path} must be a single-channel uint16 PNG, got {what}")
    h, w = mm.shape
    return decode_depth(mm.astype("<u2", copy=False).tobytes(), w, h, DepthEncoding.UINT16_MM,
                        DepthKind.PLANAR_Z)
