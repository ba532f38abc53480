"""The evaluation report: pooled numbers per method, region and setting, as JSON and Markdown."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["METHOD_LABELS", "REPORT_REGIONS", "EvalReport", "hole_table", "pooled_score"]

METHOD_LABELS = {
    "anchor": "anchor (nearest fill)",
    "telea": "OpenCV Telea inpainting",
    "frame-model": "frame model, anchor-locked",
    "frame-model-unlocked": "frame model, full regeneration",
}
"""Row labels of the Markdown report (``teacher-<n>`` rows are labelled on the fly)."""

REPORT_REGIONS = ("covered", "crack", "disoccluded", "outside", "holes", "all")
"""Regions kept in the report."""


def _num(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: _num(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_num(v) for v in x]
    return x


def _fmt(x: float | None, digits: int = 2) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


@dataclass
class EvalReport:
    """Result of :func:`evaluate`.

    Attributes:
        protocol: ``"extrapolation"`` or ``"interpolation"``.
        methods: method names in report order, with their sampler steps (None for fills).
        scores: ``scores[R][d][method][region]`` = pooled totals and scores
            (:meth:`~worldbridge.evaluation.pooling.RegionTotals.to_dict`): R the number of
            reference views, d the target distance in frames (both as strings, JSON keys).
        engine_warp: ``engine_warp[R][d][region]``: the engine's own warping error (its
            ground-truth frames) over the same pixels, [0, 255] units.
        hole_fraction: ``hole_fraction[R][d]``: fraction of target pixels in the holes.
        settings: the inputs (paths, sizes, seed, sampler settings).
        cases: per case, the recording, references and targets.
        seconds: wall time of the evaluation.
    """

    protocol: str
    methods: dict[str, int | None]
    scores: dict[str, dict[str, dict[str, dict[str, dict[str, Any]]]]]
    engine_warp: dict[str, dict[str, dict[str, float]]]
    hole_fraction: dict[str, dict[str, float]]
    settings: dict[str, Any] = field(default_factory=dict)
    cases: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self, indent: int | None = 2) -> str:
        """Strict JSON (NaN and infinities are ``null``)."""
        return json.dumps(_num({
            "protocol": self.protocol, "methods": self.methods, "scores": self.scores,
            "engine_warp": self.engine_warp, "hole_fraction": self.hole_fraction,
            "settings": self.settings, "cases": self.cases, "seconds": self.seconds,
        }), indent=indent, allow_nan=False)

    def score(self, refs: int, distance: int, method: str, region: str, metric: str) -> float:
        """One number, e.g. ``score(1, 8, "frame-model", "holes", "psnr")`` (NaN if absent)."""
        return pooled_score(self.scores, refs, distance, method, region, metric)

    def to_markdown(self) -> str:
        """Markdown tables: per reference count, one row per method and distance."""
        lines: list[str] = []
        for r, by_d in self.scores.items():
            lines += [f"**{r} reference view{'s' if r != '1' else ''}**", "",
                      "| method | steps | d | covered PSNR | crack PSNR | disocc. PSNR | outside "
                      "PSNR | holes PSNR | holes SSIM | hole gradient ratio | hallucinated warp "
                      "error (engine) |",
                      "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
            for method, steps in self.methods.items():
                for d, by_m in by_d.items():
                    s = by_m.get(method)
                    if s is None:
                        continue
                    ew = self.engine_warp.get(r, {}).get(d, {}).get("holes")
                    label = METHOD_LABELS.get(method) or \
                        f"teacher, {method.split('-')[-1]}-step DDIM, anchor-locked"
                    lines.append(
                        f"| {label} | {steps if steps else '–'} | {d} "
                        f"| {_fmt(s['covered']['psnr'])} | {_fmt(s['crack']['psnr'])} "
                        f"| {_fmt(s['disoccluded']['psnr'])} | {_fmt(s['outside']['psnr'])} "
                        f"| {_fmt(s['holes']['psnr'])} | {_fmt(s['holes']['ssim'], 3)} "
                        f"| {_fmt(s['holes']['gradient_ratio'], 2)} "
                        f"| {_fmt(s['holes']['warp_error'])} ({_fmt(ew)}) |")
            holes = ", ".join(f"{_fmt(100 * v, 1)} % at d = {d}"
                              for d, v in self.hole_fraction.get(r, {}).items())
            lines += ["", f"Hole pixels (disoccluded + outside): {holes}.", ""]
        s = self.settings
        data = ", ".join(Path(p).name for p in s.get("data", []))
        lines.append(
            f"Protocol `{self.protocol}`: {len(self.cases)} cases on {data}; output "
            f"{s.get('output_size')} px (the recordings' size); seed {s.get('seed')}. PSNR in "
            "dB pooled over all pixels of each region; SSIM border-aware (11 x 11 Gaussian "
            "windows truncated at the image edge); gradient ratio = the method's gradient "
            "energy over the engine's on hole pixels; warp error = mean absolute difference "
            "(0-255) between a target and the next frame, warped with ground-truth depth, on "
            "the next frame's hole pixels; the engine's own in brackets. "
            f"{self.seconds:.0f} s.")
        return "\n".join(lines) + "\n"


def pooled_score(scores: dict[str, Any], refs: int, distance: int, method: str, region: str, metric: str) -> float:
    """One number of an :class:`EvalReport`'s ``scores`` (or of its JSON's ``"scores"``), e.g.
    ``pooled_score(s, 1, 8, "frame-model", "holes", "psnr")``; NaN if absent or null."""
    try:
        v = scores[str(refs)][str(distance)][method][region][metric]
    except (KeyError, TypeError):
        return math.nan
    return math.nan if v is None else float(v)


def hole_table(holes: dict[tuple[int, int], list[float]]) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for (r, d), v in sorted(holes.items()):
        out.setdefault(str(r), {})[str(d)] = float(np.mean(v))
    return out
