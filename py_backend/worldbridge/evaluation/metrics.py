"""Image-quality and temporal-stability metrics for generated frames.

* :func:`psnr`: peak signal-to-noise ratio, per image, optionally over a pixel mask.
* :func:`ssim` / :func:`ssim_map`: structural similarity, Wang, Bovik, Sheikh and
  Simoncelli, "Image Quality Assessment: From Error Visibility to Structural Similarity",
  IEEE TIP 13(4), 2004: 11 x 11 Gaussian window (sigma 1.5), ``K1 = 0.01``,
  ``K2 = 0.03``, statistics over the window positions that lie fully inside the image (the
  paper's reference code filters with ``'valid'``), one map per colour channel, averaged.
* :func:`border_ssim_map`: the same SSIM at every pixel, with windows truncated at the
  image border and their Gaussian weights renormalised, so border pixels are scored too.
* :func:`gradient_energy`: sum of squared forward differences inside a region (texture).
* :func:`warp_error`: temporal stability of two consecutive frames: the colour difference
  between the current frame and the previous frame warped into it with ground-truth depth
  and poses, over pixels visible in both (the warping error of Lai et al., "Learning Blind
  Video Temporal Consistency", ECCV 2018, arXiv 1808.00449, with geometry instead of optical flow).

Images are ``[B, 3, H, W]`` floating tensors in ``[0, 1]``; every metric returns one value
per image (``[B]`` float64) so callers choose how to aggregate. Computation is in float64
on the inputs' device.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

__all__ = [
    "SSIM_SIGMA",
    "SSIM_WINDOW",
    "WarpError",
    "border_ssim_map",
    "gaussian_window",
    "gradient_energy",
    "psnr",
    "ssim",
    "ssim_map",
    "ssim_map_mean",
    "warp_error",
]

SSIM_WINDOW = 11
"""Side of the SSIM Gaussian window, pixels (Wang et al. 2004, section III.C)."""

SSIM_SIGMA = 1.5
"""Standard deviation of the SSIM Gaussian window, pixels (Wang et al. 2004)."""


def _check_images(a: torch.Tensor, b: torch.Tensor, dtype: torch.dtype | None = torch.float64
                  ) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate an image pair; return it in ``dtype`` (None: ``a``'s dtype) on ``a``'s device."""
    for name, x in (("a", a), ("b", b)):
        if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
            got = f"{tuple(x.shape)} {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"{name} must be a [B, C, H, W] floating tensor, got {got}")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(a.shape)} and "
                         f"{tuple(b.shape)}")
    dtype = a.dtype if dtype is None else dtype
    return a.to(dtype), b.to(device=a.device, dtype=dtype)


def _check_mask(mask: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor | None:
    """``[B, 1, H, W]`` / ``[B, H, W]`` bool or {0, 1} mask -> ``[B, 1, H, W]`` bool."""
    if mask is None:
        return None
    b, _, h, w = like.shape
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"mask must be a tensor, got {type(mask).__name__}")
    if mask.ndim == 3:
        mask = mask[:, None]
    if tuple(mask.shape) != (b, 1, h, w):
        raise ValueError(f"mask must be [B, 1, H, W] = [{b}, 1, {h}, {w}] (or [B, H, W]), got "
                         f"{tuple(mask.shape)}")
    return (mask != 0).to(like.device)


def psnr(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None,
         data_range: float = 1.0) -> torch.Tensor:
    """Peak signal-to-noise ratio of each image pair, ``10 log10(data_range^2 / MSE)``.

    The MSE is the mean squared difference over all channels and pixels, or, with ``mask``,
    over the channels of the masked pixels only.

    Args:
        a, b: ``[B, C, H, W]`` floating images with values in ``[0, data_range]``.
        mask: optional ``[B, 1, H, W]`` (or ``[B, H, W]``) bool or {0, 1} tensor; nonzero
            pixels are the ones compared.
        data_range: the peak value (1.0 for images in [0, 1]; 255.0 for 8-bit values).

    Returns:
        ``[B]`` float64 PSNR in dB, on ``a``'s device: ``+inf`` where the (masked) images
        are identical, NaN where the mask selects no pixel.

    Raises:
        ValueError: non-floating or non-4D images, different shapes, a mask of another
            size, or ``data_range <= 0``.
        TypeError: a mask that is not a tensor.
    """
    if not data_range > 0:
        raise ValueError(f"data_range must be > 0, got {data_range!r}")
    a, b = _check_images(a, b)
    m = _check_mask(mask, a)
    sq = (a - b).square()
    if m is None:
        mse = sq.mean(dim=(1, 2, 3))
    else:
        mf = m.to(sq.dtype)
        mse = (sq * mf).sum(dim=(1, 2, 3)) / (mf.sum(dim=(1, 2, 3)) * a.shape[1])
    return 10.0 * torch.log10(data_range ** 2 / mse)


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA,
                    dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"
                    ) -> torch.Tensor:
    """The normalised 1D Gaussian ``[size]`` whose outer product is the SSIM window.

    Taps at ``i - (size - 1) / 2`` for ``i = 0 .. size - 1``, weights
    ``exp(-x^2 / (2 sigma^2))`` divided by their sum (Wang et al. 2004, section III.C).

    Raises:
        ValueError: ``size`` not a positive odd integer or ``sigma <= 0``.
    """
    if isinstance(size, bool) or not isinstance(size, int) or size < 1 or size % 2 == 0:
        raise ValueError(f"window size must be a positive odd integer, got {size!r}")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, got {sigma!r}")
    x = torch.arange(size, dtype=dtype, device=device) - (size - 1) / 2
    g = torch.exp(-x.square() / (2.0 * sigma * sigma))
    return g / g.sum()


def _filter(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable 'valid' Gaussian filter of ``[N, 1, H, W]`` -> ``[N, 1, H - k + 1, W - k + 1]``."""
    k = g.numel()
    x = F.conv2d(x, g.view(1, 1, k, 1))
    return F.conv2d(x, g.view(1, 1, 1, k))


def ssim_map(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0,
             window_size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA, k1: float = 0.01,
             k2: float = 0.03, dtype: torch.dtype | None = torch.float64) -> torch.Tensor:
    """The local SSIM index of every full window, averaged over the colour channels.

    Per channel, with Gaussian-weighted local means ``mu``, variances ``sigma^2`` and
    covariance ``sigma_ab`` (Wang et al. 2004, eq. 13-15):
    ``SSIM = (2 mu_a mu_b + C1)(2 sigma_ab + C2) / ((mu_a^2 + mu_b^2 + C1)(sigma_a^2 +
    sigma_b^2 + C2))`` with ``C1 = (k1 L)^2``, ``C2 = (k2 L)^2``, ``L = data_range``.
    Only windows that lie entirely inside the image are evaluated ('valid' filtering, as in
    the paper's reference code): map pixel ``(i, j)`` is the window centred on image pixel
    ``(i + r, j + r)``, ``r = (window_size - 1) / 2``.

    Args:
        a, b: ``[B, C, H, W]`` floating images in ``[0, data_range]``, ``H, W >= window_size``.
        data_range: L, the peak value.
        window_size: side of the Gaussian window (odd), pixels.
        sigma: its standard deviation, pixels.
        k1, k2: the stabilising constants.
        dtype: computation dtype; None keeps the inputs' dtype and autograd graph (a
            differentiable training loss, e.g. the autoencoder's ``1 - SSIM`` term).

    Returns:
        ``[B, 1, H - 2r, W - 2r]`` SSIM map (1 where the images agree), float64 by default.

    Raises:
        ValueError: bad images (see :func:`psnr`), images smaller than the window, or bad
            window parameters.
    """
    a, b = _check_images(a, b, dtype)
    n, c, h, w = a.shape
    if h < window_size or w < window_size:
        raise ValueError(f"SSIM needs images of at least {window_size} x {window_size} pixels, "
                         f"got {h} x {w}")
    if not data_range > 0:
        raise ValueError(f"data_range must be > 0, got {data_range!r}")
    g = gaussian_window(window_size, sigma, dtype=a.dtype, device=a.device)
    x = a.reshape(n * c, 1, h, w)
    y = b.reshape(n * c, 1, h, w)
    stats = _filter(torch.cat([x, y, x * x, y * y, x * y]), g)
    s = _ssim_from_moments(stats, data_range, k1, k2)
    return s.reshape(n, c, *s.shape[-2:]).mean(dim=1, keepdim=True)


def _ssim_from_moments(stats: torch.Tensor, data_range: float, k1: float, k2: float
                       ) -> torch.Tensor:
    """SSIM (Wang et al. 2004, eq. 13) from the stacked local moments ``E[x], E[y], E[x^2],
    E[y^2], E[xy]`` (``[5 N, 1, h, w]``, concatenated in that order) -> ``[N, 1, h, w]``."""
    mu_x, mu_y, xx, yy, xy = stats.chunk(5)
    mu_xx, mu_yy, mu_xy = mu_x * mu_x, mu_y * mu_y, mu_x * mu_y
    var_x, var_y, cov = xx - mu_xx, yy - mu_yy, xy - mu_xy
    c1, c2 = (k1 * data_range) ** 2, (k2 * data_range) ** 2
    return ((2 * mu_xy + c1) * (2 * cov + c2)) / ((mu_xx + mu_yy + c1) * (var_x + var_y + c2))


def _filter_same(x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    """Separable zero-padded 'same' Gaussian filter of ``[N, 1, H, W]`` float64.

    On the CPU, OpenCV's ``sepFilter2D`` (constant-zero border) is about 30 times faster
    than a float64 ``conv2d``; elsewhere ``conv2d``. Both give the same sums up to rounding.
    """
    r = (g.numel() - 1) // 2
    if x.device.type == "cpu":
        k = g.numpy()
        planes = x.detach().numpy()
        out = np.empty_like(planes)
        for i in range(planes.shape[0]):
            out[i, 0] = cv2.sepFilter2D(planes[i, 0], -1, k, k, borderType=cv2.BORDER_CONSTANT)
        return torch.from_numpy(out)
    x = F.conv2d(x, g.view(1, 1, -1, 1), padding=(r, 0))
    return F.conv2d(x, g.view(1, 1, 1, -1), padding=(0, r))


def border_ssim_map(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0,
                    window_size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA,
                    k1: float = 0.01, k2: float = 0.03) -> torch.Tensor:
    """The local SSIM index at *every* pixel (a same-size map), averaged over the channels.

    :func:`ssim_map` evaluates only windows lying fully inside the image, so pixels within
    ``r = (window_size - 1) / 2`` of the border have no value, and a hole at the image
    border (typical of regions outside the reference views) is never scored. Here every
    pixel gets the window centred on it, truncated to the image: the Gaussian weights of
    the in-image part are renormalised to sum to 1 (normalised convolution: zero-padded
    filtering of the moments divided by the zero-padded filtering of ones), and the local
    means, variances and covariance are the weighted moments under those weights. Nothing
    is invented outside the image (no reflected or replicated pixels, which would count
    border pixels twice); a border pixel's statistics come from fewer, closer pixels.
    Where the window is fully inside, the value equals :func:`ssim_map`'s exactly, so
    ``border_ssim_map(a, b)[..., r:H - r, r:W - r] == ssim_map(a, b)`` up to rounding.
    The SSIM formula and constants are those of :func:`ssim_map` (Wang et al. 2004, eq. 13).

    Args:
        a, b: ``[B, C, H, W]`` floating images in ``[0, data_range]``, any ``H, W >= 1``.
        data_range: L, the peak value (1.0 for images in [0, 1]).
        window_size: side of the Gaussian window (odd), pixels.
        sigma: its standard deviation, pixels.
        k1, k2: the stabilising constants.

    Returns:
        ``[B, 1, H, W]`` float64 SSIM map on ``a``'s device; pixel ``(i, j)`` scores the
        window centred on image pixel ``(i, j)``.

    Raises:
        ValueError: bad images (see :func:`psnr`), ``data_range <= 0`` or bad window
            parameters.
    """
    a, b = _check_images(a, b)
    if not data_range > 0:
        raise ValueError(f"data_range must be > 0, got {data_range!r}")
    n, c, h, w = a.shape
    g = gaussian_window(window_size, sigma, dtype=torch.float64, device=a.device)
    r = (window_size - 1) // 2
    x = a.detach().reshape(n * c, 1, h, w)
    y = b.detach().reshape(n * c, 1, h, w)
    num = _filter_same(torch.cat([x, y, x * x, y * y, x * y]), g)
    # The weight of the in-image part of each window is separable: rows times columns.
    ones_h = torch.ones(1, 1, h, 1, dtype=torch.float64, device=a.device)
    ones_w = torch.ones(1, 1, 1, w, dtype=torch.float64, device=a.device)
    wh = F.conv2d(ones_h, g.view(1, 1, -1, 1), padding=(r, 0))  # [1, 1, H, 1]
    ww = F.conv2d(ones_w, g.view(1, 1, 1, -1), padding=(0, r))  # [1, 1, 1, W]
    s = _ssim_from_moments(num / (wh * ww), data_range, k1, k2)
    return s.reshape(n, c, h, w).mean(dim=1, keepdim=True)


def gradient_energy(x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Sum of squared image-gradient magnitudes over a region (a texture / sharpness measure).

    Gradients are forward differences per channel, ``dx = x[:, :, i, j + 1] - x[:, :, i, j]``
    and ``dy = x[:, :, i + 1, j] - x[:, :, i, j]``, and a difference counts only when *both*
    of its pixels are in the mask (and in the image). The result is the sum of ``dx^2`` and
    ``dy^2`` over the counted differences and all channels. The seam between the region and
    its surroundings therefore never counts: a region filled with one flat colour scores
    exactly 0, whatever surrounds it, so the ratio of a generated frame's energy to the
    ground truth's over the same pixels (see
    :class:`worldbridge.evaluation.pooling.RegionAccumulator`) is a smear detector: about 1
    for a fill as textured as the engine's frame, near 0 for a blur, above 1 for noise.

    Args:
        x: ``[B, C, H, W]`` floating images (any scale; [0, 1] in this package).
        mask: optional ``[B, 1, H, W]`` (or ``[B, H, W]``) bool or {0, 1} tensor; None = the
            whole image.

    Returns:
        ``[B]`` float64 energies in (units of ``x``) squared.

    Raises:
        ValueError: a non-floating or non-4D image, or a mask of another size.
        TypeError: a mask that is not a tensor.
    """
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or not x.is_floating_point():
        got = f"{tuple(x.shape)} {x.dtype}" if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"x must be a [B, C, H, W] floating tensor, got {got}")
    x = x.to(torch.float64)
    return _masked_gradient_energy(*_gradient_terms(x), _check_mask(mask, x))


def _gradient_terms(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Squared forward differences summed over channels: ``[B, 1, H, W - 1]`` (along
    x) and ``[B, 1, H - 1, W]`` (along y), for a ``[B, C, H, W]`` float64 image."""
    dx = (x[..., :, 1:] - x[..., :, :-1]).square().sum(dim=1, keepdim=True)
    dy = (x[..., 1:, :] - x[..., :-1, :]).square().sum(dim=1, keepdim=True)
    return dx, dy


def _masked_gradient_energy(dx: torch.Tensor, dy: torch.Tensor, m: torch.Tensor | None
                            ) -> torch.Tensor:
    """``[B]`` sum of the differences whose two pixels are both in the ``[B, 1, H, W]`` bool
    mask ``m`` (all of them for None)."""
    if m is not None:
        dx = dx * (m[..., :, 1:] & m[..., :, :-1])
        dy = dy * (m[..., 1:, :] & m[..., :-1, :])
    return dx.sum(dim=(1, 2, 3)) + dy.sum(dim=(1, 2, 3))


def ssim(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor | None = None,
         data_range: float = 1.0, window_size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA,
         k1: float = 0.01, k2: float = 0.03) -> torch.Tensor:
    """Mean SSIM of each image pair (Wang et al. 2004), optionally over a pixel mask.

    The mean of :func:`ssim_map`; with ``mask``, the mean of the map over the masked pixels
    (each map value belongs to its window's centre pixel). Pixels closer than
    ``(window_size - 1) / 2`` to the border have no full window and never count, so
    ``ssim(a, b, mask=all ones) == ssim(a, b)``.

    Args:
        a, b: ``[B, C, H, W]`` floating images in ``[0, data_range]``.
        mask: optional ``[B, 1, H, W]`` (or ``[B, H, W]``) bool or {0, 1} tensor.
        data_range, window_size, sigma, k1, k2: see :func:`ssim_map`.

    Returns:
        ``[B]`` float64 mean SSIM in ``[-1, 1]`` (1: identical), NaN where the mask selects
        no pixel with a full window.

    Raises:
        ValueError: see :func:`ssim_map`; a mask of another size.
    """
    m = _check_mask(mask, a) if isinstance(a, torch.Tensor) and a.ndim == 4 else mask
    return ssim_map_mean(ssim_map(a, b, data_range, window_size, sigma, k1, k2), m)


def ssim_map_mean(smap: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean of an :func:`ssim_map` per image, optionally over an image-sized mask.

    Lets a caller score several regions of one image pair with a single map.

    Args:
        smap: ``[B, 1, H - 2r, W - 2r]`` map of :func:`ssim_map` (``r`` is half the window).
        mask: optional ``[B, 1, H, W]`` (or ``[B, H, W]``) bool or {0, 1} mask of the
            *image*; its border of ``r`` pixels is dropped to align it with the map.

    Returns:
        ``[B]`` float64 mean SSIM, NaN where the mask selects no map pixel.

    Raises:
        ValueError: a mask whose size does not fit the map.
    """
    if mask is None:
        return smap.mean(dim=(1, 2, 3))
    if mask.ndim == 3:
        mask = mask[:, None]
    hm, wm = smap.shape[-2:]
    h, w = mask.shape[-2:]
    if mask.ndim != 4 or mask.shape[:2] != (smap.shape[0], 1) or (h - hm) % 2 or \
            h - hm != w - wm or h < hm:
        raise ValueError(f"mask {tuple(mask.shape)} does not fit an SSIM map of "
                         f"{tuple(smap.shape)}")
    r = (h - hm) // 2
    mf = (mask[:, :, r:h - r, r:w - r] != 0).to(device=smap.device, dtype=smap.dtype)
    return (smap * mf).sum(dim=(1, 2, 3)) / mf.sum(dim=(1, 2, 3))


@dataclass(frozen=True)
class WarpError:
    """Result of :func:`warp_error`.

    Attributes:
        error: ``[B]`` float64 mean absolute colour difference between the current frame
            and the warped previous frame over the used pixels and the channels, in
            ``[0, 255]`` units (8-bit levels); NaN where no pixel was used.
        fraction: ``[B]`` float64 in ``[0, 1]``: used pixels / all pixels.
        mask: ``[B, 1, H, W]`` bool: the used pixels of the current frame.
        warped: ``[B, C, H, W]`` float64: the previous frame resampled at the current
            frame's pixels (meaningful where ``mask``).
        abs_sum: ``[B]`` float64 sum of the absolute differences over the used pixels and
            all channels, ``[0, 255]`` units, for pooling over frames:
            ``error == abs_sum / (count * C)``.
        count: ``[B]`` int64 number of used pixels.
    """

    error: torch.Tensor
    fraction: torch.Tensor
    mask: torch.Tensor
    warped: torch.Tensor
    abs_sum: torch.Tensor
    count: torch.Tensor


def _check_poses(name: str, t: torch.Tensor, shape: tuple[int, ...], device) -> torch.Tensor:
    t = torch.as_tensor(t)
    if tuple(t.shape) != shape:
        raise ValueError(f"{name} must be {list(shape)}, got {tuple(t.shape)}")
    t = t.to(device=device, dtype=torch.float64)
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} has non-finite values")
    return t


def warp_error(prev_rgb: torch.Tensor, cur_rgb: torch.Tensor, cur_depth: torch.Tensor,
               cur_c2w: torch.Tensor, prev_c2w: torch.Tensor, K: torch.Tensor,
               prev_depth: torch.Tensor, prev_K: torch.Tensor | None = None,
               depth_tolerance: float = 0.05, mask: torch.Tensor | None = None) -> WarpError:
    """Warping error between consecutive frames with ground-truth depth and poses.

    Every current pixel ``(row, col)`` with valid depth ``z`` is lifted at its centre,
    ``X = cur_c2w [z K^-1 (col + 0.5, row + 0.5, 1)]``, and projected into the previous
    camera at ``(u, v)`` with depth ``z'``. It is *used* when ``z' > 0``, ``(u, v)`` lies in
    the previous image and the point is visible there: the previous frame's depth at the
    pixel containing ``(u, v)`` is valid and within ``depth_tolerance`` (relative) of ``z'``
    (otherwise something else occludes it, or the depth is missing). The previous frame is
    sampled bilinearly at ``(u, v)`` and compared with the current frame; the error is the
    mean absolute difference over the used pixels and all channels, times 255 (Lai et al.
    2018's warping error with geometry in place of optical flow). A perfectly stable
    renderer of a Lambertian scene scores 0 up to resampling. With ``mask``, only current
    pixels inside it are used (e.g. the pixels a model had to invent), so the stability of
    one region is measured; ``fraction`` is still relative to all pixels.

    Args:
        prev_rgb, cur_rgb: ``[B, C, H, W]`` floating images in ``[0, 1]``.
        cur_depth, prev_depth: ``[B, 1, H, W]`` (or ``[B, H, W]``) planar z along the
            camera's +Z, metres; 0, negative or non-finite = invalid.
        cur_c2w, prev_c2w: ``[B, 4, 4]`` OpenCV camera-to-world (X right, Y down, Z
            forward), metres.
        K: ``[B, 3, 3]`` (or ``[3, 3]``) intrinsics of the current frame, pixels of the
            ``W x H`` image (pixel ``(row, col)`` covers ``[col, col + 1) x [row, row + 1)``).
        prev_K: intrinsics of the previous frame (default ``K``).
        depth_tolerance: largest ``|z' - depth_prev| / depth_prev`` still counted as visible.
        mask: optional ``[B, 1, H, W]`` (or ``[B, H, W]``) bool or {0, 1} tensor over the
            *current* frame's pixels; only nonzero pixels can be used. None = all pixels.

    Returns:
        A :class:`WarpError` (``error``, ``fraction``, ``abs_sum`` and ``count`` per image).

    Raises:
        ValueError: shapes that do not fit, non-finite poses or intrinsics, a negative
            ``depth_tolerance``, or a mask of another size.
        TypeError: a mask that is not a tensor.
    """
    prev, cur = _check_images(prev_rgb, cur_rgb)
    b, _, h, w = cur.shape
    dev = cur.device
    if not depth_tolerance >= 0:
        raise ValueError(f"depth_tolerance must be >= 0, got {depth_tolerance!r}")
    depths = []
    for name, d in (("cur_depth", cur_depth), ("prev_depth", prev_depth)):
        d = torch.as_tensor(d)
        if d.ndim == 3:
            d = d[:, None]
        if tuple(d.shape) != (b, 1, h, w):
            raise ValueError(f"{name} must be [B, 1, H, W] = [{b}, 1, {h}, {w}], got "
                             f"{tuple(d.shape)}")
        d = d.to(device=dev, dtype=torch.float64)
        depths.append(torch.where(torch.isfinite(d) & (d > 0), d, torch.zeros_like(d)))
    z_cur, z_prev_map = depths
    c2w_cur = _check_poses("cur_c2w", cur_c2w, (b, 4, 4), dev)
    c2w_prev = _check_poses("prev_c2w", prev_c2w, (b, 4, 4), dev)
    region = _check_mask(mask, cur)
    k_cur = torch.as_tensor(K)
    k_cur = _check_poses("K", k_cur.expand(b, 3, 3) if k_cur.ndim == 2 else k_cur, (b, 3, 3), dev)
    k_prev = k_cur if prev_K is None else torch.as_tensor(prev_K)
    k_prev = _check_poses("prev_K", k_prev.expand(b, 3, 3) if k_prev.ndim == 2 else k_prev,
                          (b, 3, 3), dev)

    rows, cols = torch.meshgrid(torch.arange(h, dtype=torch.float64, device=dev) + 0.5,
                                torch.arange(w, dtype=torch.float64, device=dev) + 0.5,
                                indexing="ij")
    pix = torch.stack([cols, rows, torch.ones_like(cols)]).reshape(1, 3, h * w)  # [1, 3, HW]
    z = z_cur.reshape(b, 1, h * w)
    # Explicit small inverses: batched linalg.solve with many right-hand sides is slow on CPU.
    cam = (torch.linalg.inv(k_cur) @ pix) * z  # [B, 3, HW]
    # current camera -> previous camera: inv(prev_c2w) @ cur_c2w
    rel = torch.linalg.inv(c2w_prev) @ c2w_cur
    cam_prev = rel[:, :3, :3] @ cam + rel[:, :3, 3:]
    zp = cam_prev[:, 2]
    proj = k_prev @ cam_prev
    safe = torch.where(zp > 1e-9, zp, torch.ones_like(zp))
    u, v = proj[:, 0] / safe, proj[:, 1] / safe  # continuous pixel coordinates [B, HW]
    valid = (z[:, 0] > 0) & (zp > 1e-9) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
    col_i = u.floor().clamp(0, w - 1).long()
    row_i = v.floor().clamp(0, h - 1).long()
    d_prev = z_prev_map.reshape(b, h * w).gather(1, row_i * w + col_i)
    valid &= (d_prev > 0) & ((zp - d_prev).abs() <= depth_tolerance * d_prev)
    if region is not None:
        valid &= region.reshape(b, h * w)

    # grid_sample with align_corners=False: -1 / +1 are the outer edges of the image, so
    # the continuous coordinate u maps to 2 u / W - 1.
    grid = torch.stack([2.0 * u / w - 1.0, 2.0 * v / h - 1.0], dim=-1).reshape(b, h, w, 2)
    warped = F.grid_sample(prev, grid, mode="bilinear", padding_mode="border",
                           align_corners=False)
    mask = valid.reshape(b, 1, h, w)
    mf = mask.to(torch.float64)
    n = mf.sum(dim=(1, 2, 3))
    diff = (warped - cur).abs() * mf
    abs_sum = diff.sum(dim=(1, 2, 3)) * 255.0
    err = abs_sum / (n * cur.shape[1])
    return WarpError(error=err, fraction=n / (h * w), mask=mask, warped=warped,
                     abs_sum=abs_sum, count=mask.sum(dim=(1, 2, 3)))

