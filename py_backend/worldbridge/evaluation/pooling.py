"""Per-region metrics pooled over every pixel of every frame (the extrapolation protocol).

A per-image PSNR averaged over images weighs a frame with 30 hole pixels as much as one
with 30 000, and a single perfect frame makes the mean infinite. Here each region
(:data:`worldbridge.evaluation.regions.REGION_GROUPS`: covered, crack, disoccluded,
outside, invalid, holes, missing, all) keeps running *sums* over all the frames added, and
the scores are computed once from the sums:

* PSNR: ``10 log10(1 / MSE)`` with ``MSE = SSE / (pixels * C)``, the squared error summed
  over the region's pixels of every frame and over the C channels, on the [0, 1] scale
  (peak 1): :func:`pooled_psnr`.
* SSIM: the mean of the border-aware SSIM map (:func:`~worldbridge.evaluation.metrics.
  border_ssim_map`, Gaussian 11 x 11, sigma 1.5, windows truncated at the image border
  with renormalised weights) over the region's pixels of every frame. The windows see the
  whole image; only the map values at the region's pixels are averaged.
* Gradient-energy ratio: the generated frames' :func:`~worldbridge.evaluation.metrics.
  gradient_energy` over the region, summed over frames, divided by the ground truth's
  over the same pixels. 1 for the engine's own texture detail, 0 for a flat fill, near 0
  for a blur or smear, above 1 for noise or over-sharpening.
* Warping error: from :meth:`RegionAccumulator.add_warp`, the mean absolute difference
  (8-bit levels, [0, 255]) between generated frame t+1 and generated frame t warped into
  it with ground-truth depth and poses, over the region's pixels of frame t+1 that are
  visible in both frames, pooled over frame pairs.

Images are the ground truth and the generated frame of the same target; both are given
as uint8 ``[H, W, C]`` / ``[B, H, W, C]`` (numpy or torch, divided by 255) or as floating
``[B, C, H, W]`` torch tensors in [0, 1]. Sums are float64.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch

from worldbridge.evaluation.metrics import (
    SSIM_SIGMA,
    SSIM_WINDOW,
    _gradient_terms,
    border_ssim_map,
    gaussian_window,
    warp_error,
)
from worldbridge.evaluation.regions import REGION_GROUPS, REGION_NAMES, _group_labels

__all__ = ["RegionTotals", "RegionAccumulator", "pooled_psnr", "as_image_batch"]

_NUM_LABELS = len(REGION_NAMES)  # label values are 0 .. _NUM_LABELS - 1


def pooled_psnr(sse: float, samples: int, data_range: float = 1.0) -> float:
    """PSNR of pooled squared errors: ``10 log10(data_range^2 / (sse / samples))``, dB.

    Args:
        sse: sum of squared differences over all pooled samples (pixel-channels), in
            ``data_range`` units squared.
        samples: number of pixel-channels summed (pixels times channels), >= 0.
        data_range: the peak value (1.0 for [0, 1] images).

    Returns:
        PSNR in dB; ``+inf`` when ``sse == 0`` and ``samples > 0``; NaN when
        ``samples == 0``.

    Raises:
        ValueError: a negative ``sse`` or ``samples``, or ``data_range <= 0``.
    """
    if not data_range > 0:
        raise ValueError(f"data_range must be > 0, got {data_range!r}")
    if not (sse >= 0 and samples >= 0):
        raise ValueError(f"sse and samples must be >= 0, got {sse!r} and {samples!r}")
    if samples == 0:
        return math.nan
    if sse == 0:
        return math.inf
    return 10.0 * math.log10(data_range ** 2 * samples / sse)


@dataclass
class RegionTotals:
    """Running sums of one region over the frames added so far.

    Attributes:
        images: frames in which the region had at least one pixel.
        pixels: region pixels over all frames.
        samples: region pixel-channels (pixels times C).
        sse: sum of squared errors over the samples, [0, 1] scale.
        ssim_sum: sum of the border-aware SSIM map over the region's pixels.
        grad_pred: gradient energy of the generated frames over the region, [0, 1] scale.
        grad_target: the same for the ground-truth frames.
        warp_pixels: region pixels of frames t+1 used by the warping error (visible in
            both frames of a pair).
        warp_samples: those pixels times C.
        warp_abs_sum: sum of absolute differences over them, [0, 255] units.
    """

    images: int = 0
    pixels: int = 0
    samples: int = 0
    sse: float = 0.0
    ssim_sum: float = 0.0
    grad_pred: float = 0.0
    grad_target: float = 0.0
    warp_pixels: int = 0
    warp_samples: int = 0
    warp_abs_sum: float = 0.0

    @property
    def mse(self) -> float:
        """Pooled mean squared error, [0, 1] scale; NaN for an empty region."""
        return self.sse / self.samples if self.samples else math.nan

    @property
    def psnr(self) -> float:
        """Pooled PSNR, dB (peak 1); inf without error, NaN for an empty region."""
        return pooled_psnr(self.sse, self.samples)

    @property
    def ssim(self) -> float:
        """Mean border-aware SSIM over the region's pixels; NaN for an empty region."""
        return self.ssim_sum / self.pixels if self.pixels else math.nan

    @property
    def gradient_ratio(self) -> float:
        """Generated over ground-truth gradient energy; NaN where the truth has none."""
        return self.grad_pred / self.grad_target if self.grad_target > 0 else math.nan

    @property
    def warp_error(self) -> float:
        """Pooled warping error, [0, 255] units; NaN when no pixel was used."""
        return self.warp_abs_sum / self.warp_samples if self.warp_samples else math.nan

    def merge(self, other: RegionTotals) -> None:
        """Add another accumulation's sums (e.g. from another worker) into these."""
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def to_dict(self) -> dict[str, float | int]:
        """The sums and the pooled scores, JSON-ready (NaN / inf stay floats)."""
        out: dict[str, float | int] = asdict(self)
        out.update(mse=self.mse, psnr=self.psnr, ssim=self.ssim,
                   gradient_ratio=self.gradient_ratio, warp_error=self.warp_error)
        return out


def as_image_batch(x: Any, name: str = "image") -> torch.Tensor:
    """Images as a ``[B, C, H, W]`` float64 tensor in [0, 1].

    Args:
        x: uint8 ``[H, W, C]`` or ``[B, H, W, C]`` (numpy array or torch tensor; values
            divided by 255), or a floating torch tensor ``[B, C, H, W]`` (or
            ``[C, H, W]``) already in [0, 1].
        name: what the images are, for error messages.

    Raises:
        ValueError: another dtype or rank, or a floating numpy array (whose channel
            order would be ambiguous).
    """
    if isinstance(x, np.ndarray):
        if x.dtype != np.uint8:
            raise ValueError(f"{name}: numpy images must be uint8 [H, W, C] or [B, H, W, C], "
                             f"got {x.dtype} {list(x.shape)}; pass floating images as "
                             "[B, C, H, W] torch tensors")
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a numpy array or torch tensor, got {type(x).__name__}")
    if x.dtype == torch.uint8:
        if x.ndim == 3:
            x = x[None]
        if x.ndim != 4:
            raise ValueError(f"{name}: uint8 images must be [H, W, C] or [B, H, W, C], got "
                             f"{list(x.shape)}")
        return x.permute(0, 3, 1, 2).to(torch.float64) / 255.0
    if not x.is_floating_point():
        raise ValueError(f"{name} must be uint8 or floating, got {x.dtype}")
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4:
        raise ValueError(f"{name}: floating images must be [B, C, H, W] (or [C, H, W]), got "
                         f"{list(x.shape)}")
    return x.to(torch.float64)


def _bin_sum(index: torch.Tensor, values: torch.Tensor, bins: int) -> torch.Tensor:
    """``[bins]`` float64 sums of ``values`` per ``index`` value (same shapes)."""
    return torch.bincount(index.reshape(-1), weights=values.reshape(-1).to(torch.float64),
                          minlength=bins)


def _as_labels(labels: Any, b: int, h: int, w: int, device: torch.device) -> torch.Tensor:
    """``[H, W]`` / ``[B, H, W]`` integer label maps -> ``[B, 1, H, W]`` int64 (checked)."""
    t = torch.from_numpy(np.asarray(labels)) if not isinstance(labels, torch.Tensor) else labels
    if t.dtype.is_floating_point or t.dtype.is_complex or t.dtype == torch.bool:
        raise ValueError(f"labels must be an integer label map, got {t.dtype}")
    if t.ndim == 2:
        t = t[None]
    if tuple(t.shape) != (b, h, w):
        raise ValueError(f"labels must be [B, H, W] = [{b}, {h}, {w}] (or [H, W] for one "
                         f"frame), got {list(t.shape)}")
    t = t.to(device=device, dtype=torch.int64)
    if t.numel() and (int(t.min()) < min(REGION_NAMES) or int(t.max()) > max(REGION_NAMES)):
        raise ValueError(f"labels must be region labels {sorted(REGION_NAMES)}, got values in "
                         f"[{int(t.min())}, {int(t.max())}]")
    return t[:, None]


class RegionAccumulator:
    """Pooled per-region PSNR, SSIM, gradient-energy ratio and warping error.

    Add every (generated, ground-truth, labels) frame of an evaluation with :meth:`add`,
    and every consecutive pair of generated frames with :meth:`add_warp`; read
    :attr:`totals` or :meth:`scores` at the end. See the module docstring for the
    definitions, scales and pooling.

    Args:
        groups: region name -> labels (values of
            :class:`~worldbridge.evaluation.regions.Region`); default
            :data:`~worldbridge.evaluation.regions.REGION_GROUPS`.
        window_size, sigma: the SSIM window (odd side and standard deviation, pixels).

    Raises:
        ValueError: an empty group set, a group with no label or an unknown label, or a
            bad SSIM window.
    """

    def __init__(self, groups: Mapping[str, Iterable[int]] | None = None, *,
                 window_size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> None:
        groups = REGION_GROUPS if groups is None else groups
        if not groups:
            raise ValueError("groups must name at least one region")
        self.groups: dict[str, tuple[int, ...]] = {}
        for name, values in groups.items():
            labels = _group_labels(tuple(values))
            if not labels:
                raise ValueError(f"region group {name!r} has no label")
            self.groups[str(name)] = labels
        gaussian_window(window_size, sigma)  # checks the window now, not at the first add
        self.window_size = window_size
        self.sigma = sigma
        self.totals: dict[str, RegionTotals] = {name: RegionTotals() for name in self.groups}

    def _selectors(self, device: torch.device) -> dict[str, torch.Tensor]:
        """Group name -> ``[L]`` bool selector over the label values."""
        out = {}
        for name, values in self.groups.items():
            sel = torch.zeros(_NUM_LABELS, dtype=torch.bool, device=device)
            sel[list(values)] = True
            out[name] = sel
        return out

    def add(self, pred: Any, target: Any, labels: Any) -> None:
        """Add generated frames, their ground truth and their region labels.

        Args:
            pred: the generated frames (see :func:`as_image_batch` for accepted forms).
            target: the engine's ground-truth frames, same form rules, same size.
            labels: ``[B, H, W]`` (or ``[H, W]`` for one frame) integer label maps of
                :func:`~worldbridge.evaluation.regions.classify_regions` (numpy or torch).

        Raises:
            ValueError: images of different shapes or bad forms, labels of another size or
                with values that are not region labels.
        """
        p = as_image_batch(pred, "pred")
        t = as_image_batch(target, "target").to(p.device)
        if p.shape != t.shape:
            raise ValueError(f"pred and target must have the same shape, got "
                             f"{list(p.shape)} and {list(t.shape)}")
        b, c, h, w = p.shape
        lab = _as_labels(labels, b, h, w, p.device)
        sq = (p - t).square().sum(dim=1, keepdim=True)  # [B, 1, H, W]
        smap = border_ssim_map(p, t, window_size=self.window_size, sigma=self.sigma)
        # Per-label sums (one bincount each), then per group the sum over its labels.
        # Gradient differences are binned by the label pair of their two pixels, so a group
        # counts exactly the differences with both pixels inside it.
        per_image = (lab + _NUM_LABELS * torch.arange(b, device=p.device).view(b, 1, 1, 1))
        flat = per_image.reshape(-1)
        count = torch.bincount(flat, minlength=b * _NUM_LABELS).view(b, _NUM_LABELS)
        sse = _bin_sum(lab, sq, _NUM_LABELS)
        ssim_sum = _bin_sum(lab, smap, _NUM_LABELS)
        grads = []
        for dx, dy in (_gradient_terms(p), _gradient_terms(t)):
            pair_x = lab[..., :, :-1] * _NUM_LABELS + lab[..., :, 1:]
            pair_y = lab[..., :-1, :] * _NUM_LABELS + lab[..., 1:, :]
            grads.append(_bin_sum(pair_x, dx, _NUM_LABELS ** 2)
                         + _bin_sum(pair_y, dy, _NUM_LABELS ** 2))
        for name, sel in self._selectors(p.device).items():
            tot = self.totals[name]
            n = count[:, sel].sum(dim=1)
            pair_sel = (sel[:, None] & sel[None, :]).reshape(-1)
            tot.images += int((n > 0).sum())
            tot.pixels += int(n.sum())
            tot.samples += int(n.sum()) * c
            tot.sse += float(sse[sel].sum())
            tot.ssim_sum += float(ssim_sum[sel].sum())
            tot.grad_pred += float(grads[0][pair_sel].sum())
            tot.grad_target += float(grads[1][pair_sel].sum())

    def add_warp(self, prev_pred: Any, cur_pred: Any, cur_labels: Any, cur_depth: Any,
                 cur_c2w: Any, prev_c2w: Any, K: Any, prev_depth: Any, *,  # noqa: N803
                 prev_K: Any = None, depth_tolerance: float = 0.05) -> None:  # noqa: N803
        """Add the warping error of consecutive generated frames t (prev) and t+1 (cur).

        Frame t is warped into frame t+1 with the ground-truth depth and poses exactly as
        :func:`~worldbridge.evaluation.metrics.warp_error` does (one call per pair batch);
        each region's sums take the used pixels (visible in both frames) whose label in
        frame t+1 is in the region.

        Args:
            prev_pred, cur_pred: generated frames t and t+1 (see :func:`as_image_batch`).
            cur_labels: ``[B, H, W]`` (or ``[H, W]``) region labels of frame t+1.
            cur_depth, prev_depth: ``[B, 1, H, W]``, ``[B, H, W]`` or (one pair)
                ``[H, W]`` ground-truth planar z, metres (0 / non-finite = invalid).
            cur_c2w, prev_c2w: ``[B, 4, 4]`` (or ``[4, 4]``) OpenCV camera-to-world,
                metres.
            K, prev_K: ``[B, 3, 3]`` or ``[3, 3]`` intrinsics, pixels (``prev_K``
                defaults to ``K``).
            depth_tolerance: relative depth agreement for "visible in the previous frame".

        Raises:
            ValueError: anything :func:`~worldbridge.evaluation.metrics.warp_error`
                rejects, or labels that do not fit frame t+1.
        """
        prev = as_image_batch(prev_pred, "prev_pred")
        cur = as_image_batch(cur_pred, "cur_pred").to(prev.device)
        b, c, h, w = cur.shape

        def batched(x: Any, rank: int) -> torch.Tensor:
            if isinstance(x, np.ndarray) and not x.flags.writeable:  # a Camera's matrices are read-only
                x = x.copy()
            x = torch.as_tensor(x)
            return x[None] if x.ndim == rank else x

        r = warp_error(prev, cur, batched(cur_depth, 2), batched(cur_c2w, 2),
                       batched(prev_c2w, 2), K, batched(prev_depth, 2), prev_K=prev_K,
                       depth_tolerance=depth_tolerance)
        lab = _as_labels(cur_labels, b, h, w, cur.device)
        diff = (r.warped - cur).abs().sum(dim=1, keepdim=True) * 255.0  # [B, 1, H, W]
        used = r.mask.to(torch.float64)
        n_used = _bin_sum(lab, used, _NUM_LABELS)
        abs_sum = _bin_sum(lab, diff * used, _NUM_LABELS)
        for name, sel in self._selectors(cur.device).items():
            n = int(round(float(n_used[sel].sum())))
            tot = self.totals[name]
            tot.warp_pixels += n
            tot.warp_samples += n * c
            tot.warp_abs_sum += float(abs_sum[sel].sum())

    def merge(self, other: RegionAccumulator) -> None:
        """Add another accumulator's sums (same groups) into this one.

        Raises:
            ValueError: the accumulators have different groups.
        """
        if other.groups != self.groups:
            raise ValueError(f"cannot merge accumulators of different groups: "
                             f"{sorted(self.groups)} and {sorted(other.groups)}")
        for name, tot in other.totals.items():
            self.totals[name].merge(tot)

    def scores(self) -> dict[str, dict[str, float | int]]:
        """Region name -> :meth:`RegionTotals.to_dict` (sums and pooled scores)."""
        return {name: tot.to_dict() for name, tot in self.totals.items()}
