"""Evaluation of frame generators on held-out recorded trajectories (``worldbridge eval``).

Metrics (:mod:`worldbridge.evaluation.metrics`): PSNR, SSIM (Wang et al. 2004) and the
depth-based warping error. The protocols (:mod:`~worldbridge.evaluation.cases`:
``extrapolation``, the default, and ``interpolation``) are run by
:mod:`~worldbridge.evaluation.runner`, reported by :mod:`~worldbridge.evaluation.report` and
driven from :mod:`~worldbridge.evaluation.cli`; they run the fills, the frame model
(anchor-locked and not) and its multi-step teacher through the serving pipeline against
the engine's ground truth.

The extrapolation protocol's metric layer: :mod:`~worldbridge.evaluation.regions` labels
target pixels covered / crack / disoccluded / outside from ground-truth geometry,
:mod:`~worldbridge.evaluation.pooling` pools PSNR, border-aware SSIM, the gradient-energy
ratio and the warping error per region over all frames, and
:mod:`~worldbridge.evaluation.baselines` holds the fills to compare against (nearest
covered pixel, OpenCV Telea).

:func:`~worldbridge.evaluation.autoencoder.evaluate_autoencoder` measures the autoencoder's
held-out round trip (pooled PSNR, mean SSIM, encode / decode time), the ceiling of every
frame-model number.
"""

from worldbridge.evaluation.autoencoder import evaluate_autoencoder, heldout_images
from worldbridge.evaluation.baselines import BASELINE_FILLS, telea_fill
from worldbridge.evaluation.cases import (
    DEFAULT_DISTANCES,
    PROTOCOLS,
    EvalCase,
    extrapolation_cases,
    interpolation_cases,
)
from worldbridge.evaluation.cli import build_parser, eval_main
from worldbridge.evaluation.metrics import (
    SSIM_SIGMA,
    SSIM_WINDOW,
    WarpError,
    border_ssim_map,
    gaussian_window,
    gradient_energy,
    psnr,
    ssim,
    ssim_map,
    ssim_map_mean,
    warp_error,
)
from worldbridge.evaluation.pooling import (
    RegionAccumulator,
    RegionTotals,
    as_image_batch,
    pooled_psnr,
)
from worldbridge.evaluation.regions import (
    COVERED,
    CRACK,
    DEFAULT_DEPTH_TOLERANCE,
    DEFAULT_DEPTH_TOLERANCE_ABS,
    DISOCCLUDED,
    INVALID,
    OUTSIDE,
    REGION_GROUPS,
    REGION_NAMES,
    Region,
    classify_regions,
    region_mask,
)
from worldbridge.evaluation.report import METHOD_LABELS, EvalReport
from worldbridge.evaluation.runner import evaluate

__all__ = [
    "DEFAULT_DISTANCES",
    "METHOD_LABELS",
    "PROTOCOLS",
    "EvalCase",
    "extrapolation_cases",
    "interpolation_cases",
    "BASELINE_FILLS",
    "COVERED",
    "CRACK",
    "DEFAULT_DEPTH_TOLERANCE",
    "DEFAULT_DEPTH_TOLERANCE_ABS",
    "DISOCCLUDED",
    "INVALID",
    "OUTSIDE",
    "REGION_GROUPS",
    "REGION_NAMES",
    "SSIM_SIGMA",
    "SSIM_WINDOW",
    "EvalReport",
    "Region",
    "RegionAccumulator",
    "RegionTotals",
    "WarpError",
    "as_image_batch",
    "border_ssim_map",
    "build_parser",
    "classify_regions",
    "eval_main",
    "evaluate",
    "evaluate_autoencoder",
    "gaussian_window",
    "gradient_energy",
    "heldout_images",
    "pooled_psnr",
    "psnr",
    "region_mask",
    "ssim",
    "ssim_map",
    "ssim_map_mean",
    "telea_fill",
    "warp_error",
]
