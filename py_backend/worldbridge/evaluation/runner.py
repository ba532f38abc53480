"""``worldbridge eval``: frame generators against the engine on held-out trajectories.

What is measured is what a served frame model is for (InSpatio-WorldFM, arXiv 2603.11911,
sections 2.4-2.5): views of a scene the reference views did not see. Every frame goes
through the serving code at the recording's own size: the session's scene memory and
reference views (:class:`~worldbridge.serving.worker.session.WorkerSession`, the one anchor
builder with the sky rule), the anchor render at the target pose, and
:class:`~worldbridge.models.pipeline.FramePipeline` for every model.

Protocols (which frames are references and which are targets):

* ``extrapolation`` (the default): 1 or 2 reference views (``reference_gap`` frames apart)
  and targets ``distances`` frames (4, 8 and 16) before the first and after the last
  reference, along held-out trajectories; several reference positions per trajectory.
* ``interpolation``: non-overlapping 16-frame windows with 4 references spread over each
  (0, 5, 10, 15) and the other 12 frames as targets, as training pairs them; few pixels
  are holes there.

Methods, side by side on the same anchors:

* ``anchor``: nearest covered pixel fills the holes (the ``anchor`` generator).
* ``telea``: OpenCV's Telea inpainting of the anchor render.
* ``frame-model``: the bundle's distilled sampler, anchor-locked (as served by default).
* ``frame-model-unlocked``: the same frames without anchor lock (full regeneration).
* ``teacher-<n>``: a Stage II checkpoint with ``n``-step DDIM, anchor-locked (with
  ``--teacher``; by default n = 2, the student's step count, and n = 20).

Regions (:func:`~worldbridge.evaluation.regions.classify_regions`, from the engine's
ground-truth depth): ``covered`` (a reference saw it and an anchor point landed),
``crack`` (a reference saw it, no point landed), ``disoccluded`` (inside a reference view
but hidden there), ``outside`` (outside every reference view); ``holes`` = disoccluded +
outside, what the model must invent. Errors are pooled over every pixel of every frame
(:class:`~worldbridge.evaluation.pooling.RegionAccumulator`): PSNR from summed squared
errors, border-aware SSIM, the hole gradient-energy ratio against the engine (a smear has
little texture: near 0; the engine 1), and the warping error between each target and the
next frame further from the references (generated both), over that frame's hallucinated
(hole) pixels, beside the engine's own warping error on the same pixels.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from worldbridge.evaluation.baselines import telea_fill
from worldbridge.evaluation.cases import (
    DEFAULT_DISTANCES,
    PROTOCOLS,
    extrapolation_cases,
    interpolation_cases,
)
from worldbridge.evaluation.pooling import RegionAccumulator
from worldbridge.evaluation.regions import DISOCCLUDED, OUTSIDE, classify_regions
from worldbridge.evaluation.report import REPORT_REGIONS, EvalReport, hole_table
from worldbridge.render.holes import fill_holes

__all__ = ["evaluate"]

_LOG = logging.getLogger(__name__)


def _load_teacher(tdir: Path, bundle: Any, dev: Any) -> tuple[Path, tuple[Any, Any]]:
    """``(checkpoint folder, (model, schedule))`` of a Stage II teacher (its folder or its
    output folder, for ``final/``) sharing ``bundle``'s latent space.

    Raises:
        ValueError: latents of another shape or image size than the bundle's model.
        CheckpointError: an unreadable checkpoint.
    """
    from worldbridge.models.checkpoint import checkpoint_dir, load_checkpoint_extra, load_frame_model
    from worldbridge.models.schedule import NoiseSchedule, ScheduleConfig

    tdir = checkpoint_dir(tdir)
    model = load_frame_model(tdir, device=dev).eval().requires_grad_(False)
    tc, mc = model.config, bundle.model.config
    if (tc.latent_channels, tc.latent_size, tc.image_size) != (mc.latent_channels, mc.latent_size, mc.image_size):
        raise ValueError(f"teacher {str(tdir)!r} has latents {tc.latent_channels} x "
                         f"{tc.latent_size}^2 at {tc.image_size} px, the bundle's model "
                         f"{mc.latent_channels} x {mc.latent_size}^2 at {mc.image_size} px: "
                         "they must share the autoencoder's latent space")
    sched = load_checkpoint_extra(tdir).get("schedule")
    return tdir, (model, NoiseSchedule(ScheduleConfig(**sched)) if sched else bundle.schedule)


def _cases(protocol: str, lengths: list[int], references: Sequence[int], distances: Sequence[int],
           reference_gap: int, cases_per_recording: int) -> list[tuple[int, Any]]:
    """``(reference count, case)`` pairs of a protocol over recordings of ``lengths`` frames.

    Raises:
        ValueError: no case fits.
    """
    if protocol == "extrapolation":
        cases = [(int(r), c) for r in references for c in extrapolation_cases(
            lengths, int(r), distances, reference_gap, cases_per_recording)]
    else:
        cases = [(4, c) for c in interpolation_cases(lengths)]
    if not cases:
        raise ValueError(f"no {protocol} case fits recordings of {lengths} frames")
    return cases


class _Scorer:
    """Scores every method on cases, accumulating per (reference count, distance, method).

    Each case opens a :class:`~worldbridge.serving.worker.session.WorkerSession` on its
    reference views (the serving code's scene memory, reference views and anchor render) and
    runs each model method's pipeline on its anchor render, as a serving session does.
    """

    def __init__(self, models: list[tuple[str, int | None, Any]], seed: int, zero_depth_is_sky: bool):
        self.models = models
        self.seed = seed
        self.zero_depth_is_sky = zero_depth_is_sky
        self.accs: dict[tuple[int, int, str], RegionAccumulator] = {}
        self.holes: dict[tuple[int, int], list[float]] = {}

    def _acc(self, key: tuple[int, int, str]) -> RegionAccumulator:
        if key not in self.accs:
            self.accs[key] = RegionAccumulator()
        return self.accs[key]

    def score_case(self, ds: Any, n_refs: int, case: Any) -> None:
        """Accumulate one case's targets (and the warp error to each target's next frame)."""
        from worldbridge.serving.worker.session import OutputSpec, WorkerSession
        from worldbridge.wire.texture import RowOrder, TextureFormat

        views = [ds.read_view(f, sky_as_inf=self.zero_depth_is_sky) for f in case.references]
        k0 = views[0].intrinsics
        spec = OutputSpec(k0.width, k0.height, int(TextureFormat.RGBA8), int(RowOrder.TOP_DOWN))
        session = WorkerSession(views, "anchor", spec, self.seed)
        ref_geometry = [(v.depth, v.intrinsics, v.camera.c2w) for v in views]
        for frame, dist, nxt in case.targets:
            cur = self._frames_at(ds, frame, session, ref_geometry)
            v, labels = cur["view"], cur["labels"]
            hole_frac = float(np.isin(labels, (DISOCCLUDED, OUTSIDE)).mean())
            self.holes.setdefault((n_refs, dist), []).append(hole_frac)
            for name, out in cur["outs"].items():
                self._acc((n_refs, dist, name)).add(out, v.rgb, labels)
            if nxt < 0 or not 0 <= nxt < len(ds):
                continue
            nx = self._frames_at(ds, nxt, session, ref_geometry)
            w = nx["view"]
            warp_args = (nx["labels"], w.depth, w.camera.c2w, v.camera.c2w, w.intrinsics.K, v.depth)
            for name, out in cur["outs"].items():
                self._acc((n_refs, dist, name)).add_warp(out, nx["outs"][name], *warp_args, prev_K=v.intrinsics.K)
            self._acc((n_refs, dist, "engine")).add_warp(v.rgb, w.rgb, *warp_args, prev_K=v.intrinsics.K)

    def _frames_at(self, ds: Any, frame: int, session: Any, ref_geometry: list) -> dict[str, Any]:
        """The engine view at ``frame``, its region labels and every method's output there."""
        from worldbridge.generators.base import pose_seed

        v = ds.read_view(frame, sky_as_inf=self.zero_depth_is_sky)
        target = v.camera
        anchor = session.memory.render_camera(target)
        labels = classify_regions(v.depth, v.intrinsics, target.c2w, ref_geometry, anchor.mask)
        outs = {"anchor": fill_holes(anchor.image, anchor.mask),
                "telea": telea_fill(anchor.image, anchor.mask)}
        s = pose_seed(self.seed, target.c2w)
        for name, _, pipe in self.models:
            raw = pipe.model_frame(anchor.image, anchor.mask, target, session.references, s)
            outs[name] = pipe.composite(raw, anchor.image, anchor.mask, anchor_lock=True)
            if name == "frame-model":
                outs["frame-model-unlocked"] = pipe.composite(raw, anchor.image, anchor.mask, anchor_lock=False)
        return {"view": v, "labels": labels, "outs": outs}


def _model_methods(bundle: Any, teacher: Any, teacher_steps: Sequence[int], device: Any,
                   precision: str) -> list[tuple[str, int | None, Any]]:
    """(name, steps, pipeline) of the frame model and its teacher runs."""
    from worldbridge.models.pipeline import FramePipeline
    from worldbridge.models.samplers import DDIMSampler, DistilledSampler

    out: list[tuple[str, int | None, Any]] = [("frame-model", len(bundle.timesteps),
            FramePipeline.from_model(bundle.model, bundle.autoencoder, bundle.schedule,
                                     DistilledSampler(bundle.schedule, bundle.timesteps),
                                     device=device, precision=precision))]
    if teacher is not None:
        model, schedule = teacher
        for n in teacher_steps:
            out.append((f"teacher-{n}", n, FramePipeline.from_model(
                model, bundle.autoencoder, schedule, DDIMSampler(schedule, n), device=device,
                precision=precision)))
    return out


def evaluate(bundle_dir: str | Path | None, data: Sequence[str | Path], *,
             protocol: str = "extrapolation", references: Sequence[int] = (1, 2),
             distances: Sequence[int] = DEFAULT_DISTANCES, reference_gap: int = 4,
             cases_per_recording: int = 2, teacher_dir: str | Path | None = None,
             teacher_steps: Sequence[int] = (2, 20), seed: int = 0, device: Any = None,
             precision: str = "auto", zero_depth_is_sky: bool = True,
             progress: Callable[[str], None] | None = None) -> EvalReport:
    """Evaluate the fills, a frame-model bundle and optionally its teacher.

    See the module docstring for the protocols, methods, regions and metrics.

    Args:
        bundle_dir: frame-model bundle; None: the default (``$WORLDBRIDGE_FRAME_MODEL`` or
            the starter model).
        data: held-out recordings (with depth), whole trajectories the model never saw.
        protocol: ``"extrapolation"`` or ``"interpolation"``.
        references: reference-view counts to evaluate (extrapolation).
        distances: target distances in frames (extrapolation).
        reference_gap: frames between the references of a case (extrapolation).
        cases_per_recording: reference positions per recording (extrapolation).
        teacher_dir: a Stage II checkpoint (or its output folder, for ``final/``) sharing
            the bundle's latent space; None: no teacher rows.
        teacher_steps: DDIM steps of the teacher rows.
        seed: session seed (per-frame noise seeds are ``pose_seed(seed, c2w)``, as served).
        device: PyTorch device; None: CUDA when available.
        precision: as :data:`~worldbridge.models.pipeline.PRECISIONS`.
        zero_depth_is_sky: the recordings store sky as depth 0 (the Panda3D engine): send
            it as +inf, as the engine does.
        progress: called with a line per case (None: logged).

    Returns:
        An :class:`EvalReport`.

    Raises:
        ValueError: bad arguments, no case in the data, recordings of different sizes, or
            a teacher whose latent space differs from the bundle's.
        CheckpointError, DatasetError: unreadable inputs.
    """
    import torch

    from worldbridge.generators.options import GeneratorOptions
    from worldbridge.models.bundle import FrameModelBundle
    from worldbridge.recording import load_dataset

    if protocol not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {PROTOCOLS}, got {protocol!r}")
    data = [Path(p) for p in ([data] if isinstance(data, (str, Path)) else data)]
    if not data:
        raise ValueError("evaluate needs at least one recording in data")
    say = progress or _LOG.info
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    bundle_path = Path(bundle_dir) if bundle_dir is not None else GeneratorOptions().bundle_path()
    bundle = FrameModelBundle.load(bundle_path, device=dev)
    teacher = None
    if teacher_dir is not None:
        teacher_dir, teacher = _load_teacher(Path(teacher_dir), bundle, dev)
    datasets = [load_dataset(p) for p in data]
    sizes = {(d.frames[0].intrinsics.width, d.frames[0].intrinsics.height) for d in datasets}
    cases = _cases(protocol, [len(d) for d in datasets], references, distances, reference_gap,
                   cases_per_recording)
    models = _model_methods(bundle, teacher, teacher_steps, dev, precision)
    methods: dict[str, int | None] = {"anchor": None, "telea": None}
    for name, steps, _ in models:
        methods[name] = steps
        if name == "frame-model":
            methods["frame-model-unlocked"] = steps
    scorer = _Scorer(models, seed, zero_depth_is_sky)
    t_start = time.perf_counter()
    case_info = []
    for ci, (n_refs, case) in enumerate(cases):
        ds = datasets[case.dataset_index]
        scorer.score_case(ds, n_refs, case)
        case_info.append({"recording": str(ds.path), "references": list(case.references),
                          "targets": [list(t) for t in case.targets]})
        say(f"eval case {ci + 1}/{len(cases)} ({ds.path.name}, {n_refs} reference(s) at "
            f"{list(case.references)}): {time.perf_counter() - t_start:.0f} s")
    accs, holes = scorer.accs, scorer.holes

    scores: dict[str, dict[str, dict[str, dict[str, dict[str, Any]]]]] = {}
    engine_warp: dict[str, dict[str, dict[str, float]]] = {}
    for (r, d, name), a in sorted(accs.items()):
        sc = {reg: v for reg, v in a.scores().items() if reg in REPORT_REGIONS}
        if name == "engine":
            engine_warp.setdefault(str(r), {})[str(d)] = {reg: v["warp_error"] for reg, v in sc.items()}
        else:
            scores.setdefault(str(r), {}).setdefault(str(d), {})[name] = sc
    w, h = sorted(sizes)[0]
    settings = {
        "bundle": str(bundle_path), "teacher": None if teacher_dir is None else str(teacher_dir),
        "data": [str(p) for p in data], "protocol": protocol, "references": list(references),
        "distances": [int(d) for d in distances], "reference_gap": reference_gap,
        "cases_per_recording": cases_per_recording, "sampler_timesteps": list(bundle.timesteps),
        "teacher_steps": list(teacher_steps) if teacher is not None else None, "seed": seed,
        "device": str(dev), "precision": precision, "zero_depth_is_sky": zero_depth_is_sky,
        "output_size": f"{w}x{h}" if len(sizes) == 1 else sorted(f"{a}x{b}" for a, b in sizes),
        "model_image_size": bundle.model.config.image_size,
        "conditioning": {k: getattr(bundle.model.config, k) for k in
                         ("anchor_mask_channel", "pose_normalization", "anchor_hole_value")},
    }
    return EvalReport(protocol=protocol, methods=methods, scores=scores, engine_warp=engine_warp,
                      hole_fraction=hole_table(holes),
                      settings=settings, cases=case_info,
                      seconds=time.perf_counter() - t_start)
