"""Compiled depth unprojection kernel behind :func:`worldbridge.memory.unproject_depth`."""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["unproject_kernel"]


@numba.njit(cache=True, nogil=True, error_model="numpy")
def unproject_kernel(depth, width, xn, yn, c2w, points, pixels):  # pragma: no cover
    """Lift every valid pixel (``0 < z < inf``) to a world point, in pixel order.

    Args:
        depth: ``[H * W]`` float32 planar z, metres, row-major.
        width: W, pixels.
        xn: ``[W]`` float64 ``(col + 0.5 - cx) / fx``.
        yn: ``[H]`` float64 ``(row + 0.5 - cy) / fy``.
        c2w: ``[3, 4]`` float64 camera-to-world rows 0..2.
        points: ``[H * W, 3]`` float32 output (first M rows written).
        pixels: ``[H * W]`` int64 output flat pixel indices (first M written).

    Returns:
        M, the number of valid pixels.
    """
    r00, r01, r02, t0 = c2w[0, 0], c2w[0, 1], c2w[0, 2], c2w[0, 3]
    r10, r11, r12, t1 = c2w[1, 0], c2w[1, 1], c2w[1, 2], c2w[1, 3]
    r20, r21, r22, t2 = c2w[2, 0], c2w[2, 1], c2w[2, 2], c2w[2, 3]
    inf = np.float32(np.inf)
    m = 0
    for p in range(depth.shape[0]):
        zf = depth[p]
        if not (zf > 0 and zf < inf):
            continue
        row = p // width
        x = xn[p - row * width]
        y = yn[row]
        z = np.float64(zf)
        points[m, 0] = (x * r00 + y * r01 + r02) * z + t0
        points[m, 1] = (x * r10 + y * r11 + r12) * z + t1
        points[m, 2] = (x * r20 + y * r21 + r22) * z + t2
        pixels[m] = p
        m += 1
    return m
