"""Evaluation of frame generators on held-out recorded trajectories (``worldbridge eval``).

Metrics (:mod:`worldbridge.evaluation.metrics`): PSNR, SSIM (Wang et al. 2004) and the
depth-based warping error; the protocol (:mod:`worldbridge.evaluation.evaluate`) follows
InSpatio-WorldFM: anchor baseline, distilled frame model and its multi-step teacher against
the engine's ground truth, over all pixels and over anchor holes.
"""

from worldbridge.evaluation.evaluate import (
    GENERATOR_LABELS,
    PSNR_CAP_DB,
    EvalReport,
    GeneratorScores,
    RegionScores,
    TeacherGap,
    build_parser,
    eval_main,
    evaluate,
    sample_frames,
)
from worldbridge.evaluation.metrics import (
    SSIM_SIGMA,
    SSIM_WINDOW,
    WarpError,
    gaussian_window,
    psnr,
    ssim,
    ssim_map,
    ssim_map_mean,
    warp_error,
)

__all__ = [
    "GENERATOR_LABELS",
    "PSNR_CAP_DB",
    "SSIM_SIGMA",
    "SSIM_WINDOW",
    "EvalReport",
    "GeneratorScores",
    "RegionScores",
    "TeacherGap",
    "WarpError",
    "build_parser",
    "eval_main",
    "evaluate",
    "gaussian_window",
    "psnr",
    "sample_frames",
    "ssim",
    "ssim_map",
    "ssim_map_mean",
    "warp_error",
]
