"""Compiled CPU z-buffer kernels (numba) behind :func:`worldbridge.render.render_points`.

The points are processed in blocks: a block is first projected (a branch-free loop the
compiler can vectorise), then scattered into the z-buffer serially in index order. A point
replaces a pixel's current winner only if its planar z is strictly smaller, so on equal z
the lowest point index wins: the same rule as the PyTorch backend's ``amin`` over
``(z bits << 32) | index`` keys.

The projection arithmetic is the one :mod:`worldbridge.render.zbuffer` documents, in
float32, term by term and in the same order (no fast-math, no fused multiply-add), so both
backends agree bit for bit. Kernels compile on first use (``cache=True`` keeps the machine
code on disk between processes); call :func:`warmup` once at start-up, outside hot paths.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["zbuffer_kernel", "gather_rows_kernel", "warmup", "PARAMS_LEN"]

PARAMS_LEN = 17
"""Length of the float32 parameter vector: w2c rows 0..2 (12), fx, fy, cx, cy, near."""

_BLOCK = 2048
"""Points projected per block (the block's temporaries stay in L1 cache)."""


@numba.njit(cache=True, nogil=True, error_model="numpy")
def zbuffer_kernel(points, params, height, width, radius, depth, index):  # pragma: no cover
    """Z-buffer ``points`` into ``depth``/``index`` in place.

    Args:
        points: ``[N, 3]`` float32, C-contiguous, world coordinates, metres.
        params: ``[17]`` float32: w2c rows 0..2 row-major (12 values), fx, fy, cx, cy, near.
        height, width: image size, pixels (int64).
        radius: splat radius, pixels (int64, >= 0): a point covers the
            ``(2 radius + 1)^2`` square of pixels centred on the one it projects into.
        depth: ``[H * W]`` float32, filled with +inf by the caller; receives the winning
            planar z, metres.
        index: ``[H * W]`` int32, filled with -1 by the caller; receives the winning
            point index.
    """
    r00 = params[0]
    r01 = params[1]
    r02 = params[2]
    t0 = params[3]
    r10 = params[4]
    r11 = params[5]
    r12 = params[6]
    t1 = params[7]
    r20 = params[8]
    r21 = params[9]
    r22 = params[10]
    t2 = params[11]
    fx = params[12]
    fy = params[13]
    cx = params[14]
    cy = params[15]
    near = params[16]
    inf = np.float32(np.inf)
    fw = np.float32(width)
    fh = np.float32(height)
    n = points.shape[0]
    pix = np.empty(_BLOCK, np.int64)
    zs = np.empty(_BLOCK, np.float32)
    for start in range(0, n, _BLOCK):
        count = min(_BLOCK, n - start)
        # Pass 1: project the block (no data-dependent branches).
        for j in range(count):
            i = start + j
            px = points[i, 0]
            py = points[i, 1]
            pz = points[i, 2]
            z = px * r20 + py * r21 + pz * r22 + t2
            x = px * r00 + py * r01 + pz * r02 + t0
            y = px * r10 + py * r11 + pz * r12 + t1
            u = (x / z) * fx + cx
            v = (y / z) * fy + cy
            ok = (z > near) & (z < inf) & (u >= 0) & (u < fw) & (v >= 0) & (v < fh)
            if ok:
                pix[j] = np.int64(v) * width + np.int64(u)
            else:
                pix[j] = -1
            zs[j] = z
        # Pass 2: scatter the block, in index order.
        for j in range(count):
            p = pix[j]
            if p < 0:
                continue
            z = zs[j]
            i = start + j
            if radius == 0:
                if z < depth[p]:
                    depth[p] = z
                    index[p] = i
            else:
                row = p // width
                col = p - row * width
                r_lo = max(row - radius, 0)
                r_hi = min(row + radius + 1, height)
                c_lo = max(col - radius, 0)
                c_hi = min(col + radius + 1, width)
                for rr in range(r_lo, r_hi):
                    base = rr * width
                    for cc in range(c_lo, c_hi):
                        q = base + cc
                        if z < depth[q]:
                            depth[q] = z
                            index[q] = i


@numba.njit(cache=True, nogil=True)
def gather_rows_kernel(index, src, dst):  # pragma: no cover
    """``dst[p] = src[index[p]]`` where ``index[p] >= 0``; other rows are left as they are.

    Args:
        index: ``[P]`` int32 source row per output row, -1 = skip.
        src: ``[N, B]`` uint8 (any dtype's rows viewed as bytes), C-contiguous.
        dst: ``[P, B]`` uint8, C-contiguous, zero-filled by the caller.
    """
    nbytes = src.shape[1]
    for p in range(index.shape[0]):
        i = index[p]
        if i >= 0:
            for b in range(nbytes):
                dst[p, b] = src[i, b]


def warmup() -> None:
    """Compile (or load from the on-disk cache) the kernels; call once at start-up."""
    pts = np.array([[0.0, 0.0, 1.0]], dtype=np.float32)
    params = np.zeros(PARAMS_LEN, dtype=np.float32)
    params[[0, 5, 10, 12, 13]] = 1.0
    params[16] = 1e-3
    depth = np.full(4, np.inf, dtype=np.float32)
    index = np.full(4, -1, dtype=np.int32)
    zbuffer_kernel(pts, params, 2, 2, 0, depth, index)
    gather_rows_kernel(index, np.zeros((1, 3), np.uint8), np.zeros((4, 3), np.uint8))
