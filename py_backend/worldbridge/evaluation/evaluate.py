"""``worldbridge eval``: frame generators against the engine's ground truth on held-out clips.

The protocol follows InSpatio-WorldFM (seeds/001_cf5667605b2ecdfd.txt): novel views are
generated from the scene's anchors and a reference view and compared with the real frames
(PSNR, SSIM), the distilled few-step generator is compared with its multi-step teacher
(section 2.5), and temporal stability is measured between consecutive frames.

Data: held-out recordings cut into clips exactly as for training
(:class:`~worldbridge.training.clips.ClipDataset`, InSpatio-WorldFM section 2.4.1) but
deterministic: non-overlapping windows of ``clip_len`` frames at a fixed stride, the
``num_references`` references spread evenly over the clip (0, 5, 10, 15 of 16), no anchor
masking. The references' ground-truth depth builds the point cloud; every other frame is a
target with its anchor render, its temporally closest reference, its ground-truth RGB and
depth.

Generators, all at the evaluation resolution ``S`` (the square crop of
:func:`~worldbridge.training.clips.crop_resize`):

* ``anchor``: the anchor render with holes filled by the nearest covered pixel
  (:func:`~worldbridge.generators.anchor.fill_holes`), the no-weights baseline.
* ``frame-model``: the bundle's distilled generator with its few-step sampler
  (:class:`~worldbridge.models.samplers.DistilledSampler`, default ``(999, 200)``), the
  same latent pipeline as :class:`~worldbridge.generators.frame_model.FrameModelGenerator`
  (anchor and reference encoded by the bundle's autoencoder, per-timestep reference
  key/value caches, noise seeded from the pose with
  :func:`~worldbridge.generators.base.pose_seed`, bfloat16 autocast on CUDA, output
  quantised to 8 bits), batched over the targets of a clip.
* ``teacher`` (optional): a Stage II checkpoint with deterministic DDIM
  (:class:`~worldbridge.models.samplers.DDIMSampler`) in ``teacher_steps`` steps, the same
  autoencoder and the same initial noise.

Metrics (:mod:`worldbridge.evaluation.metrics`): PSNR and SSIM over all pixels, over anchor
holes (``anchor_mask == 0``, what the model must invent) and over covered pixels; the
student-teacher gap; the warping error between consecutive targets of a clip with
ground-truth depth, for each generator and for the ground-truth frames themselves (the
floor set by resampling and view-dependent shading).

Aggregation: per-image values are averaged over images (images without pixels in a region
do not count for it); a per-image PSNR is capped at :data:`PSNR_CAP_DB` so an exact region
(common for anchors on synthetic data) does not make the mean infinite. Warping errors are
averaged over consecutive pairs.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from worldbridge.evaluation.metrics import psnr, ssim, ssim_map, ssim_map_mean, warp_error

__all__ = [
    "GENERATOR_LABELS",
    "PSNR_CAP_DB",
    "EvalReport",
    "GeneratorScores",
    "RegionScores",
    "TeacherGap",
    "build_parser",
    "eval_main",
    "evaluate",
    "sample_frames",
]

_LOG = logging.getLogger(__name__)

PSNR_CAP_DB = 100.0
"""Largest per-image PSNR counted in a mean, dB (an identical region has infinite PSNR)."""

GENERATOR_LABELS = {
    "anchor": "anchor (hole filling)",
    "frame-model": "frame model (distilled)",
    "teacher": "teacher (Stage II, DDIM)",
}
"""Row labels of :meth:`EvalReport.to_markdown`, by generator name."""

_REGIONS = ("all", "holes", "covered")


# --------------------------------------------------------------------------- report


def _num(x: Any) -> float | None:
    """A finite float, or None (strict JSON has no NaN or infinity)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def _fmt(x: float | None, digits: int) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


@dataclass
class RegionScores:
    """Mean scores of one generator over one pixel region.

    Attributes:
        psnr: mean per-image PSNR, dB (each capped at :data:`PSNR_CAP_DB`); NaN when no
            image has pixels in the region.
        ssim: mean per-image SSIM (Wang et al. 2004) in [-1, 1]; NaN likewise.
        images: number of images that counted.
    """

    psnr: float
    ssim: float
    images: int


@dataclass
class GeneratorScores:
    """Everything measured for one generator.

    Attributes:
        name: ``"anchor"``, ``"frame-model"`` or ``"teacher"``.
        steps: denoiser calls per frame (None for the anchor).
        all, holes, covered: :class:`RegionScores` over all pixels, over anchor holes
            (``anchor_mask == 0``) and over covered pixels, against the ground truth.
        warp_error: mean warping error between consecutive targets, [0, 255] units (lower
            is steadier); NaN without pairs.
        warp_fraction: mean fraction of pixels the warping error used, [0, 1].
        pairs: number of consecutive target pairs.
    """

    name: str
    steps: int | None
    all: RegionScores
    holes: RegionScores
    covered: RegionScores
    warp_error: float
    warp_fraction: float
    pairs: int


@dataclass
class TeacherGap:
    """How far the distilled student is from its multi-step teacher.

    Attributes:
        teacher_steps: DDIM steps of the teacher.
        psnr_gap_db: teacher PSNR minus student PSNR against the ground truth, all pixels,
            dB (positive: the student is worse).
        ssim_gap: the same for SSIM.
        psnr_student_vs_teacher: mean PSNR of the student's frames against the teacher's
            frames (same noise), dB.
        ssim_student_vs_teacher: mean SSIM of the same pairs.
    """

    teacher_steps: int
    psnr_gap_db: float
    ssim_gap: float
    psnr_student_vs_teacher: float
    ssim_student_vs_teacher: float


@dataclass
class EvalReport:
    """Result of :func:`evaluate`.

    Attributes:
        generators: :class:`GeneratorScores` by name, in evaluation order (``anchor``,
            ``frame-model``, then ``teacher`` when evaluated).
        ground_truth_warp_error: warping error of the ground-truth frames themselves,
            [0, 255] units: the floor the generators are measured against.
        ground_truth_warp_fraction: fraction of pixels it used, [0, 1].
        teacher_gap: student-vs-teacher comparison, or None without a teacher.
        num_clips: clips evaluated.
        num_targets: target frames evaluated (frames per generator).
        hole_fraction: mean fraction of target pixels no anchor point covers, [0, 1].
        settings: the evaluation's inputs (paths, sizes, seeds, sampler settings).
        clips: per clip, the recording and its frame indices (``frames``, ``references``,
            ``targets``), for reproducibility.
    """

    generators: dict[str, GeneratorScores]
    ground_truth_warp_error: float
    ground_truth_warp_fraction: float
    teacher_gap: TeacherGap | None
    num_clips: int
    num_targets: int
    hole_fraction: float
    settings: dict[str, Any] = field(default_factory=dict)
    clips: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-compatible dict; NaN and infinite numbers become None."""
        def clean(v: Any) -> Any:
            if isinstance(v, float):
                return _num(v)
            if isinstance(v, dict):
                return {k: clean(x) for k, x in v.items()}
            if isinstance(v, (list, tuple)):
                return [clean(x) for x in v]
            return v

        return clean(asdict(self))

    def to_json(self, indent: int | None = 2) -> str:
        """Strict JSON (no NaN / Infinity; those are ``null``) of :meth:`to_dict`."""
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    def to_markdown(self) -> str:
        """A Markdown section for the README: one table row per generator plus notes."""
        s = self.settings
        lines = [
            "| Generator | Steps | PSNR ↑ | SSIM ↑ | PSNR holes ↑ | SSIM holes ↑ | Warp error ↓ |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for name, g in self.generators.items():
            lines.append(
                f"| {GENERATOR_LABELS.get(name, name)} | {g.steps if g.steps else '–'} "
                f"| {_fmt(g.all.psnr, 2)} | {_fmt(g.all.ssim, 3)} | {_fmt(g.holes.psnr, 2)} "
                f"| {_fmt(g.holes.ssim, 3)} | {_fmt(g.warp_error, 2)} |")
        lines.append(f"| ground truth | – | – | – | – | – "
                     f"| {_fmt(self.ground_truth_warp_error, 2)} |")
        lines.append("")
        if self.teacher_gap is not None:
            t = self.teacher_gap
            lines.append(
                f"Student vs teacher ({t.teacher_steps}-step DDIM): gap against the ground "
                f"truth (teacher - student, all pixels) {_fmt(t.psnr_gap_db, 2)} dB PSNR, "
                f"{_fmt(t.ssim_gap, 3)} SSIM; student frames against teacher frames (same "
                f"noise) {_fmt(t.psnr_student_vs_teacher, 2)} dB PSNR, "
                f"{_fmt(t.ssim_student_vs_teacher, 3)} SSIM.")
            lines.append("")
        data = ", ".join(Path(p).name for p in s.get("data", []))
        lines.append(
            f"{self.num_clips} held-out clips ({self.num_targets} target frames) of {data}; "
            f"{s.get('image_size')} x {s.get('image_size')} px; "
            f"{s.get('num_references')} reference views per {s.get('clip_len')}-frame clip, "
            f"stride {s.get('frame_stride')}; anchor holes are "
            f"{_fmt(100.0 * self.hole_fraction, 1)} % of the pixels. "
            "PSNR in dB and SSIM (Wang et al. 2004, 11 x 11 Gaussian window, sigma 1.5) "
            "against the engine's frames; holes = pixels no anchor point covers; warp error = "
            "mean absolute difference (0-255) between consecutive targets after warping "
            "with ground-truth depth and poses, over pixels visible in both.")
        return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- generation


def sample_frames(model: torch.nn.Module, autoencoder: Any, sampler: Any,
                  anchor_rgb: torch.Tensor, reference_rgb: torch.Tensor,
                  target_w2c: torch.Tensor, target_K: torch.Tensor,
                  reference_w2c: torch.Tensor, reference_K: torch.Tensor,
                  seeds: Sequence[int]) -> torch.Tensor:
    """Generate a batch of frames with a frame model, as the ``frame-model`` generator does.

    The anchor and reference images are encoded with ``autoencoder``; when the model's
    reference tokens attend only to themselves, their per-layer keys and values are
    computed once per sampler timestep (:meth:`~worldbridge.models.FrameModel.
    compute_reference_cache`); the initial noise is :func:`~worldbridge.models.seeded_noise`
    of ``seeds`` (so a :class:`~worldbridge.models.DistilledSampler` and a
    :class:`~worldbridge.models.DDIMSampler` start from the same ``x_T``); bfloat16
    autocast on CUDA, float32 elsewhere.

    Args:
        model: a :class:`~worldbridge.models.FrameModel` (eval mode), on its device.
        autoencoder: its :class:`~worldbridge.models.Autoencoder`, same device.
        sampler: a :class:`~worldbridge.models.DistilledSampler` or
            :class:`~worldbridge.models.DDIMSampler` with the model's schedule.
        anchor_rgb, reference_rgb: ``[B, 3, S, S]`` float in [-1, 1], ``S`` =
            ``model.config.image_size``.
        target_w2c, reference_w2c: ``[B, 4, 4]`` OpenCV world-to-camera, metres.
        target_K, reference_K: ``[B, 3, 3]`` intrinsics, pixels of the S x S image.
        seeds: B noise seeds (e.g. :func:`~worldbridge.generators.base.pose_seed`).

    Returns:
        ``[B, 3, S, S]`` float32 images in [-1, 1] (clamped), on the model's device.

    Raises:
        ValueError: shapes the model rejects.
        TypeError: a sampler of another kind.
    """
    from worldbridge.models.samplers import DDIMSampler, DistilledSampler, seeded_noise

    dev = next(model.parameters()).device
    use_cache = model.config.reference_self_attention_only
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if dev.type == "cuda" \
        else nullcontext()

    def f32(x: torch.Tensor) -> torch.Tensor:
        return x.to(device=dev, dtype=torch.float32)

    tw, tk, rw, rk = f32(target_w2c), f32(target_K), f32(reference_w2c), f32(reference_K)
    with torch.inference_mode(), autocast:
        latents = autoencoder.encode(torch.cat([f32(anchor_rgb), f32(reference_rgb)]))
        anchor, reference = latents.chunk(2)
        caches: dict[int, Any] = {}

        def denoise(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            if not use_cache:
                return model(x, t, anchor, reference, tw, tk, rw, rk).float()
            key = int(t[0])
            if key not in caches:
                caches[key] = model.compute_reference_cache(reference, rw, rk, t)
            return model(x, t, anchor, None, tw, tk, None, None,
                         reference_cache=caches[key]).float()

        shape = tuple(anchor.shape)
        if isinstance(sampler, DistilledSampler):
            x0 = sampler.sample(denoise, shape, list(seeds), device=dev)
        elif isinstance(sampler, DDIMSampler):
            x0 = sampler.sample(denoise, seeded_noise(shape, list(seeds), dev))
        else:
            raise TypeError(f"sampler must be a DistilledSampler or DDIMSampler, got "
                             f"{type(sampler).__name__}")
        img = autoencoder.decode(x0.to(anchor.dtype)).float()
    return img.clamp(-1.0, 1.0)


def _to_uint8(x: torch.Tensor) -> np.ndarray:
    """``[B, 3, S, S]`` float in [-1, 1] -> ``[B, S, S, 3]`` uint8 (the generator's rounding)."""
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def _to_unit01(rgb: np.ndarray, device: torch.device) -> torch.Tensor:
    """``[B, S, S, 3]`` uint8 -> ``[B, 3, S, S]`` float64 in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(rgb)).to(device).permute(0, 3, 1, 2) \
        .to(torch.float64) / 255.0


def _resize_batch(rgb: np.ndarray, size: int, interpolation: int) -> np.ndarray:
    if rgb.shape[1:3] == (size, size):
        return rgb
    return np.stack([cv2.resize(x, (size, size), interpolation=interpolation) for x in rgb])


# --------------------------------------------------------------------------- evaluation


class _Scores:
    """Per-image metric values of one generator, collected over clips."""

    def __init__(self) -> None:
        self.values: dict[str, list[torch.Tensor]] = {}

    def add(self, key: str, v: torch.Tensor) -> None:
        self.values.setdefault(key, []).append(v.detach().double().cpu().reshape(-1))

    def all(self, key: str) -> torch.Tensor:
        parts = self.values.get(key, [])
        return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.float64)

    def mean(self, key: str, cap: float | None = None) -> tuple[float, int]:
        v = self.all(key)
        if cap is not None:
            v = torch.where(v > cap, torch.full_like(v, cap), v)
        v = v[~torch.isnan(v)]
        return (float(v.mean()) if v.numel() else float("nan")), int(v.numel())


def _score_images(acc: _Scores, out: torch.Tensor, gt: torch.Tensor, covered: torch.Tensor
                  ) -> None:
    smap = ssim_map(out, gt)  # one map, three regions
    for region, m in (("all", None), ("holes", ~covered), ("covered", covered)):
        acc.add(f"psnr_{region}", psnr(out, gt, m))
        acc.add(f"ssim_{region}", ssim_map_mean(smap, m))


def _score_warp(acc: _Scores, out: torch.Tensor, depth: torch.Tensor, c2w: torch.Tensor,
                K: torch.Tensor) -> None:
    if out.shape[0] < 2:
        return
    w = warp_error(out[:-1], out[1:], depth[1:], c2w[1:], c2w[:-1], K[1:], depth[:-1],
                   prev_K=K[:-1])
    acc.add("warp", w.error)
    acc.add("warp_fraction", w.fraction)


def _generator_scores(name: str, steps: int | None, acc: _Scores) -> GeneratorScores:
    regions = {}
    for r in _REGIONS:
        p, n = acc.mean(f"psnr_{r}", PSNR_CAP_DB)
        s, _ = acc.mean(f"ssim_{r}")
        regions[r] = RegionScores(psnr=p, ssim=s, images=n)
    warp, pairs = acc.mean("warp")
    frac, _ = acc.mean("warp_fraction")
    return GeneratorScores(name=name, steps=steps, warp_error=warp, warp_fraction=frac,
                           pairs=pairs, **regions)


def _pick_clips(n_available: int, n: int) -> list[int]:
    """``n`` clip indices spread evenly over ``range(n_available)`` (all if fewer)."""
    if n >= n_available:
        return list(range(n_available))
    return sorted({round(float(x)) for x in np.linspace(0, n_available - 1, n)})


def evaluate(bundle_dir: str | Path | None, data: Sequence[str | Path],
             image_size: int | None = None, clips: int = 8,
             teacher_dir: str | Path | None = None, teacher_steps: int = 20, seed: int = 0,
             device: str | torch.device | None = None, *, clip_len: int = 16,
             num_references: int = 4, frame_stride: int = 1, zero_depth_is_sky: bool = True,
             anchor_hole_value: float = 0.0) -> EvalReport:
    """Evaluate the anchor baseline, a frame-model bundle and optionally its teacher.

    See the module docstring for the protocol (InSpatio-WorldFM: clips of
    ``clip_len`` frames, ``num_references`` of them building the point cloud, the others
    targets).

    Args:
        bundle_dir: frame-model bundle (:mod:`worldbridge.models.bundle`); None:
            :func:`~worldbridge.generators.frame_model.default_bundle_path`.
        data: held-out recorded datasets (directories readable by
            :func:`~worldbridge.recording.load_dataset`, with depth).
        image_size: evaluation resolution S, pixels (frames are centre-cropped to a square
            and resized); None: the model's ``image_size``. When it differs from the
            model's, anchors and references are resized to the model's size with area
            interpolation and its frames back with bicubic, as the served generator does.
        clips: number of clips, spread evenly over the available non-overlapping windows
            (all of them if there are fewer).
        teacher_dir: a Stage II frame-model checkpoint directory to evaluate as the
            teacher (same autoencoder as the bundle), or a Stage II output folder (its
            ``final/`` checkpoint is used); None: no teacher.
        teacher_steps: DDIM steps of the teacher (>= 1).
        seed: session seed of the per-frame noise seeds (``pose_seed(seed, c2w)``, as in
            serving), shared by the student and the teacher.
        device: ``"cpu"``, ``"cuda"``, ...; None: CUDA when available.
        clip_len: frames per clip (the paper: 16).
        num_references: reference frames per clip (the paper: 4).
        frame_stride: frame stride inside a clip (>= 1).
        zero_depth_is_sky: lift zero-depth reference pixels as far-away sky (as Stage II
            training does by default; see :class:`~worldbridge.training.clips.ClipSpec`).
        anchor_hole_value: value of uncovered anchor pixels fed to the frame model, in
            [-1, 1] units; 0.0 (mid grey) is what training and serving use.

    Returns:
        An :class:`EvalReport`.

    Raises:
        ValueError: bad arguments, recordings without depth or too short for one clip,
            or a teacher whose latent size or channels do not match the bundle.
        CheckpointError, AutoencoderCheckpointError: a missing or damaged bundle/teacher.
        DatasetError: unreadable recordings.
    """
    from worldbridge.generators.anchor import fill_holes
    from worldbridge.generators.base import pose_seed
    from worldbridge.generators.frame_model import default_bundle_path
    from worldbridge.models.bundle import FrameModelBundle
    from worldbridge.models.checkpoint import load_checkpoint_extra, load_frame_model
    from worldbridge.models.samplers import DDIMSampler, DistilledSampler
    from worldbridge.models.schedule import NoiseSchedule, ScheduleConfig
    from worldbridge.training.clips import ClipDataset, ClipSpec

    if isinstance(data, (str, Path)):
        data = [data]
    data = [Path(p) for p in data]
    if not data:
        raise ValueError("evaluate needs at least one recording in data")
    if isinstance(clips, bool) or not isinstance(clips, int) or clips < 1:
        raise ValueError(f"clips must be an integer >= 1, got {clips!r}")
    if isinstance(teacher_steps, bool) or not isinstance(teacher_steps, int) or teacher_steps < 1:
        raise ValueError(f"teacher_steps must be an integer >= 1, got {teacher_steps!r}")
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    bundle_path = Path(bundle_dir) if bundle_dir is not None else default_bundle_path()

    bundle = FrameModelBundle.load(bundle_path, device=dev)
    model, ae = bundle.model, bundle.autoencoder
    m_size = model.config.image_size
    size = m_size if image_size is None else image_size
    student = DistilledSampler(bundle.schedule, bundle.timesteps)

    teacher = teacher_sampler = None
    if teacher_dir is not None:
        teacher_dir = Path(teacher_dir)
        if not (teacher_dir / "config.json").is_file() and \
                (teacher_dir / "final" / "config.json").is_file():
            teacher_dir = teacher_dir / "final"  # a Stage II output folder
        teacher = load_frame_model(teacher_dir, device=dev).eval().requires_grad_(False)
        tc, mc = teacher.config, model.config
        if (tc.latent_channels, tc.latent_size, tc.image_size) != \
                (mc.latent_channels, mc.latent_size, mc.image_size):
            raise ValueError(
                f"teacher {str(teacher_dir)!r} has latents {tc.latent_channels} x "
                f"{tc.latent_size}^2 at {tc.image_size} px, the bundle's model "
                f"{mc.latent_channels} x {mc.latent_size}^2 at {mc.image_size} px: they must "
                "share the autoencoder's latent space")
        sched = load_checkpoint_extra(teacher_dir).get("schedule")
        schedule = NoiseSchedule(ScheduleConfig(**sched)) if sched else bundle.schedule
        teacher_sampler = DDIMSampler(schedule, teacher_steps)

    spec = ClipSpec(clip_len=clip_len, num_references=num_references,
                    frame_stride=(frame_stride, frame_stride),
                    window_step=(clip_len - 1) * frame_stride + 1, image_size=size,
                    anchor_mask_prob=0.0, shuffle_references=False,
                    zero_depth_is_sky=zero_depth_is_sky, anchor_hole_value=anchor_hole_value)
    dataset = ClipDataset(data, spec, seed=seed)
    picks = _pick_clips(len(dataset), clips)
    if len(picks) < clips:
        _LOG.warning("only %d non-overlapping %d-frame clips in %s; evaluating all of them",
                     len(picks), clip_len, [str(p) for p in data])

    scale = torch.tensor([m_size / size, m_size / size, 1.0], dtype=torch.float32)[None, :, None]
    names = ["anchor", "frame-model"] + (["teacher"] if teacher is not None else [])
    scores = {n: _Scores() for n in names}
    gt_scores, gap = _Scores(), _Scores()
    holes_total, n_targets, clip_info = 0.0, 0, []
    t_start = time.perf_counter()
    for ci, index in enumerate(picks):
        plan = dataset.plan(index)
        item = dataset.load(plan)
        ds = dataset.datasets[plan.dataset_index]
        t = int(item["target_rgb"].shape[0])
        c2w = torch.from_numpy(np.stack([ds.frames[int(f)].c2w_cv
                                         for f in item["target_frame_index"]])).to(dev)
        seeds = [pose_seed(seed, m.cpu().numpy()) for m in c2w]
        k = item["target_K"].to(device=dev, dtype=torch.float64)
        depth = item["target_depth"].to(dev)
        covered = item["anchor_mask"].to(dev) > 0.5
        gt = _to_unit01(_to_uint8(item["target_rgb"]), dev)
        holes_total += float((~covered).double().mean(dim=(1, 2, 3)).sum())
        n_targets += t

        anchor_u8 = _to_uint8(item["anchor_rgb"])
        mask_np = item["anchor_mask"][:, 0].numpy() > 0.5
        outputs = {"anchor": _to_unit01(
            np.stack([fill_holes(a, m) for a, m in zip(anchor_u8, mask_np)]), dev)}

        anchor_in, ref_in = item["anchor_rgb"], item["reference_rgb"]
        if m_size != size:
            anchor_in = torch.from_numpy(_resize_batch(anchor_u8, m_size, cv2.INTER_AREA)) \
                .permute(0, 3, 1, 2).float() / 127.5 - 1.0
            ref_in = torch.from_numpy(_resize_batch(_to_uint8(ref_in), m_size, cv2.INTER_AREA)) \
                .permute(0, 3, 1, 2).float() / 127.5 - 1.0
        cams = (item["target_w2c"], item["target_K"] * scale, item["reference_w2c"],
                item["reference_K"] * scale)
        runs = [("frame-model", model, student)]
        if teacher is not None:
            runs.append(("teacher", teacher, teacher_sampler))
        for name, net, sampler in runs:
            img = sample_frames(net, ae, sampler, anchor_in, ref_in, cams[0], cams[1], cams[2],
                                cams[3], seeds)
            u8 = _resize_batch(_to_uint8(img), size, cv2.INTER_CUBIC)
            outputs[name] = _to_unit01(u8, dev)

        for name, out in outputs.items():
            _score_images(scores[name], out, gt, covered)
            _score_warp(scores[name], out, depth, c2w, k)
        _score_warp(gt_scores, gt, depth, c2w, k)
        if teacher is not None:
            gap.add("psnr", psnr(outputs["frame-model"], outputs["teacher"]))
            gap.add("ssim", ssim(outputs["frame-model"], outputs["teacher"]))
        clip_info.append({
            "recording": str(ds.path),
            "frames": [int(f) for f in plan.frames],
            "references": [int(f) for f in item["reference_frame_index"]],
            "targets": [int(f) for f in item["target_frame_index"]],
        })
        _LOG.info("eval clip %d/%d (%s frames %d-%d): %.1f s", ci + 1, len(picks), ds.path.name,
                  int(plan.frames[0]), int(plan.frames[-1]), time.perf_counter() - t_start)

    steps = {"anchor": None, "frame-model": len(bundle.timesteps), "teacher": teacher_steps}
    generators = {n: _generator_scores(n, steps[n], scores[n]) for n in names}
    gt_warp, _ = gt_scores.mean("warp")
    gt_frac, _ = gt_scores.mean("warp_fraction")
    teacher_gap = None
    if teacher is not None:
        st, te = generators["frame-model"].all, generators["teacher"].all
        teacher_gap = TeacherGap(teacher_steps=teacher_steps, psnr_gap_db=te.psnr - st.psnr,
                                 ssim_gap=te.ssim - st.ssim,
                                 psnr_student_vs_teacher=gap.mean("psnr", PSNR_CAP_DB)[0],
                                 ssim_student_vs_teacher=gap.mean("ssim")[0])
    settings = {
        "bundle": str(bundle_path), "teacher": None if teacher_dir is None else str(teacher_dir),
        "data": [str(p) for p in data], "image_size": size, "model_image_size": m_size,
        "clips_requested": clips, "clip_len": clip_len, "num_references": num_references,
        "frame_stride": frame_stride, "sampler_timesteps": list(bundle.timesteps),
        "teacher_steps": teacher_steps if teacher is not None else None, "seed": seed,
        "device": str(dev), "zero_depth_is_sky": zero_depth_is_sky,
        "anchor_hole_value": anchor_hole_value, "psnr_cap_db": PSNR_CAP_DB,
    }
    return EvalReport(generators=generators, ground_truth_warp_error=gt_warp,
                      ground_truth_warp_fraction=gt_frac, teacher_gap=teacher_gap,
                      num_clips=len(picks), num_targets=n_targets,
                      hole_fraction=holes_total / max(1, n_targets), settings=settings,
                      clips=clip_info)


# --------------------------------------------------------------------------- command line


def build_parser(prog: str = "worldbridge eval") -> argparse.ArgumentParser:
    """The ``worldbridge eval`` argument parser (see :func:`eval_main`)."""
    p = argparse.ArgumentParser(
        prog=prog, description="Evaluate the anchor baseline, a frame-model bundle and "
        "optionally its Stage II teacher on held-out recorded trajectories (PSNR, SSIM, "
        "anchor-hole PSNR/SSIM, student-teacher gap, warping error).")
    p.add_argument("--bundle", type=Path, default=None,
                   help="frame-model bundle directory (default: $WORLDBRIDGE_FRAME_MODEL or "
                        "the starter model in the package)")
    p.add_argument("--teacher", type=Path, default=None,
                   help="Stage II checkpoint (or output folder, for its final/) to evaluate "
                        "as the teacher")
    p.add_argument("--data", type=Path, nargs="+", required=True,
                   help="held-out recorded dataset directories (with depth)")
    p.add_argument("--clips", type=int, default=8, help="clips to evaluate (default 8)")
    p.add_argument("--image-size", type=int, default=None,
                   help="evaluation resolution, pixels (default: the model's)")
    p.add_argument("--teacher-steps", type=int, default=20, help="teacher DDIM steps (default 20)")
    p.add_argument("--frame-stride", type=int, default=1, help="frame stride inside a clip")
    p.add_argument("--seed", type=int, default=0, help="session seed of the noise (default 0)")
    p.add_argument("--out", type=Path, default=None, help="write the report as JSON here")
    p.add_argument("--markdown", type=Path, default=None,
                   help="write the Markdown table here (it is always printed)")
    p.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: CUDA if "
                                                   "available)")
    return p


def eval_main(argv: Sequence[str] | None = None) -> int:
    """``worldbridge eval``: run :func:`evaluate` and write its report.

    Prints the Markdown table; ``--out`` writes the JSON report, ``--markdown`` the table.

    Args:
        argv: arguments after ``eval`` (None: ``sys.argv[1:]``).

    Returns:
        0 on success; 2 on a usage, checkpoint or dataset error (message on stderr).
    """
    from worldbridge.recording import DatasetError

    args = build_parser().parse_args(argv)
    try:
        report = evaluate(args.bundle, args.data, image_size=args.image_size, clips=args.clips,
                          teacher_dir=args.teacher, teacher_steps=args.teacher_steps,
                          seed=args.seed, device=args.device, frame_stride=args.frame_stride)
    except (ValueError, DatasetError, FileNotFoundError) as e:
        print(f"worldbridge eval: {e}", file=sys.stderr)
        return 2
    md = report.to_markdown()
    print(md, end="")
    for path, text in ((args.out, report.to_json() + "\n"), (args.markdown, md)):
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return 0
