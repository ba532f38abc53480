"""Adapt a bundle to a studio's level: hold out, fine-tune, distil, bundle, evaluate before and after.

``worldbridge adapt --data recordings/my_level_* --out runs/my_level`` runs the whole flow of
InSpatio-WorldFM ("InSpatio-WorldFM: An Open-Source Real-Time Generative Frame Model", arXiv
2603.11911), section 2.4.2 (a limited number of fine-tuning steps on engine data with exact
depth) followed by section 2.5 (distillation to 2 steps), on a studio's own recordings:

1. **split** (``split.json``): whole trajectories are held out (spread over the recordings in
   name order, a quarter by default, at least one), never frames of a trajectory that trains.
2. **finetune** (``finetune/``): Stage II from the base bundle's shipped teacher
   (:func:`~worldbridge.training.stage2.finetune_start`), with the teacher's own training
   recipe (its ``stage2.json``) at a lower learning rate for a bounded number of steps.
3. **distill** (``distill/``): Stage III (DMD, 2 steps) from the fine-tuned teacher (its EMA
   weights), the generator starting from the base bundle's student.
4. **bundle** (``bundle/``): the adapted student, the base's autoencoder and the fine-tuned
   teacher, with provenance (base model, level data, date, steps, wall times).
5. **evaluate** (``eval_before.json``, ``eval_after.json``, ``report.md``, ``report.json``):
   the extrapolation protocol (:mod:`worldbridge.evaluation`) on the held-out trajectories,
   base bundle and adapted bundle alike; the report says whether the adapted bundle beats
   the base on this level, by how much, and what the training cost. Its summary is written
   into the adapted bundle's ``bundle.json``.

Every stage is resumable: a finished stage is skipped, an interrupted Stage II or III resumes
from its latest checkpoint. Under ``torchrun`` every rank trains (DDP) and rank 0 alone
writes the split, the bundle and the reports.
"""

from __future__ import annotations

import datetime
import json
import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from worldbridge.atomic_io import atomic_write_text

__all__ = ["AdaptConfig", "AdaptResult", "adapt", "split_trajectories", "HEADLINE"]

_LOG = logging.getLogger(__name__)

HEADLINE = (("holes", "psnr", "hole PSNR (dB)", +1), ("covered", "psnr", "covered PSNR (dB)", +1),
            ("holes", "gradient_ratio", "hole gradient ratio", +1),
            ("holes", "warp_error", "hole warp error", -1))
"""The report's numbers: (region, metric, label, +1 if higher is better else -1)."""

DEFAULT_STEPS = {"cpu": (300, 100), "cuda": (2000, 600)}
"""(fine-tune steps, distil steps) when not given, by device type."""


@dataclass(frozen=True)
class AdaptConfig:
    """Settings of :func:`adapt` (each field is a ``worldbridge adapt`` flag).

    Attributes:
        finetune_steps, distill_steps: Stage II and Stage III steps; None: by device
            (:data:`DEFAULT_STEPS`).
        finetune_lr: Stage II learning rate (constant after a 20-step warm-up).
        distill_lr: Stage III generator and fake-score learning rate.
        ema_decay: Stage II weight EMA (the distillation teacher); short fine-tunes need a
            short average.
        heldout: whole trajectories held out for evaluation; None: a quarter, at least one.
        references, distances: the evaluation's reference-view counts and target distances
            (frames).
        cases_per_recording: evaluation cases per held-out recording and reference count.
        checkpoint_every: checkpoint interval of both stages, steps.
        num_workers: data-loading worker processes.
        seed: seed of both stages and the evaluation.

    Raises:
        ValueError: a count or rate out of range, naming the field.
    """

    finetune_steps: int | None = field(default=None, metadata={
        "help": "Stage II steps (default: 300 on CPU, 2000 on CUDA)"})
    distill_steps: int | None = field(default=None, metadata={
        "help": "Stage III steps (default: 100 on CPU, 600 on CUDA)"})
    finetune_lr: float = field(default=1e-4, metadata={"help": "Stage II learning rate"})
    distill_lr: float = field(default=1e-4, metadata={"help": "Stage III learning rate"})
    ema_decay: float = field(default=0.99, metadata={"help": "Stage II weight EMA (the distillation teacher)"})
    heldout: int | None = field(default=None, metadata={
        "help": "whole trajectories held out for evaluation (default: a quarter, at least 1)"})
    references: list[int] = field(default_factory=lambda: [1], metadata={
        "help": "evaluation reference-view counts"})
    distances: list[int] = field(default_factory=lambda: [4, 8], metadata={
        "help": "evaluation target distances, frames"})
    cases_per_recording: int = field(default=2, metadata={"help": "evaluation cases per held-out recording"})
    checkpoint_every: int = field(default=50, metadata={"help": "checkpoint interval of both stages, steps"})
    num_workers: int = field(default=1, metadata={"flag": "--workers", "help": "data-loading workers"})
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("finetune_steps", "distill_steps", "heldout"):
            v = getattr(self, name)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 1):
                raise ValueError(f"{name} must be an integer >= 1 or None, got {v!r}")
        for name in ("finetune_lr", "distill_lr"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay!r}")
        for name in ("references", "distances"):
            v = list(getattr(self, name))
            if not v or any(isinstance(x, bool) or not isinstance(x, int) or x < 1 for x in v):
                raise ValueError(f"{name} must be integers >= 1, got {v!r}")
        for name in ("cases_per_recording", "checkpoint_every", "seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < (0 if name == "seed" else 1):
                raise ValueError(f"{name} must be an integer >= {0 if name == 'seed' else 1}, got {v!r}")
        if isinstance(self.num_workers, bool) or not isinstance(self.num_workers, int) or self.num_workers < 0:
            raise ValueError(f"num_workers must be an integer >= 0, got {self.num_workers!r}")


@dataclass
class AdaptResult:
    """What :func:`adapt` produced (on rank 0; other ranks get the paths only).

    Attributes:
        out_dir: the run folder.
        bundle: the adapted bundle folder.
        report: ``report.json``'s content (None on other ranks).
    """

    out_dir: Path
    bundle: Path
    report: dict[str, Any] | None = None


def split_trajectories(data: list[Path], heldout: int | None) -> tuple[list[Path], list[Path]]:
    """``(train, held out)``: whole recordings, one per block of ``len(data) // heldout`` in name
    order, one place later in each block (recordings that cycle through path kinds, orbit, dolly,
    walk, ..., get each kind held out).

    Args:
        data: recording folders (at least 2).
        heldout: how many to hold out; None: ``max(1, len(data) // 4)``.

    Raises:
        ValueError: fewer than 2 recordings, the same recording twice, or a ``heldout``
            that leaves nothing to train on.
    """
    paths = sorted({Path(p).resolve() for p in data}, key=lambda p: p.name)
    if len(paths) != len(data):
        raise ValueError(f"the same recording is listed twice in {[str(p) for p in data]}")
    if len(paths) < 2:
        raise ValueError(f"adapt needs at least 2 recordings (whole trajectories are held out), got {len(paths)}")
    n = max(1, len(paths) // 4) if heldout is None else heldout
    if not 1 <= n < len(paths):
        raise ValueError(f"heldout must leave at least one of the {len(paths)} recordings to train on, got {n}")
    step = len(paths) // n  # one pick per block of `step`, one place later in each block, so that
    picks = {i * len(paths) // n + i % step for i in range(n)}  # interleaved path kinds all get held out
    return ([p for i, p in enumerate(paths) if i not in picks], [p for i, p in enumerate(paths) if i in picks])


def _rank() -> int:
    return int(os.environ.get("RANK", "0"))


def _device_kind(device: str | None) -> str:
    import torch

    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    return "cuda" if str(device).startswith("cuda") else "cpu"


def _stage2_config(base_teacher: Path, cfg: AdaptConfig, steps: int) -> Any:
    """The teacher's own Stage II recipe (its ``stage2.json`` when the bundle ships one) for a
    short fine-tune: ``steps`` steps, constant learning rate after a 20-step warm-up."""
    from worldbridge.training.config import Stage2Config

    recipe = base_teacher / "stage2.json"
    base = Stage2Config.from_json(recipe.read_text()) if recipe.is_file() else Stage2Config()
    return replace(base, steps=steps, lr=cfg.finetune_lr, lr_schedule="constant", warmup_steps=min(20, steps),
                   ema_decay=cfg.ema_decay, checkpoint_every=cfg.checkpoint_every, seed=cfg.seed,
                   num_workers=cfg.num_workers, log_every=min(10, steps))


def _stage3_config(s2: Any, cfg: AdaptConfig, steps: int) -> Any:
    """Stage III with the starter recipe's settings and the fine-tune's clips."""
    from worldbridge.training.config import Stage3Config

    return Stage3Config(steps=steps, batch_clips=1, targets_per_clip=s2.targets_per_clip, clip_len=s2.clip_len,
                        num_references=s2.num_references, zero_depth_is_sky=s2.zero_depth_is_sky,
                        num_workers=cfg.num_workers, log_every=min(10, steps),
                        checkpoint_every=cfg.checkpoint_every, seed=cfg.seed, clips=dict(s2.clips),
                        lr_generator=cfg.distill_lr, lr_fake=cfg.distill_lr, fake_updates_per_step=2,
                        teacher_ddim_steps=8)


def _timed(timings: dict[str, float], name: str, out: Path, fn: Any) -> Any:
    t0 = time.perf_counter()
    result = fn()
    timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0
    if _rank() == 0:
        atomic_write_text(out / "timings.json", json.dumps(timings, indent=2) + "\n")
    return result


def adapt(data: Sequence[str | Path], out_dir: str | Path, base: str | Path | None = None,
          cfg: AdaptConfig | None = None, device: str | None = None, progress: bool = True) -> AdaptResult:
    """Adapt ``base`` to the level ``data`` records (see the module docstring for the stages).

    Args:
        data: the level's recordings (folders written by ``worldbridge record`` or the engine
            plugins, with depth), whole trajectories.
        out_dir: the run folder (resumed when it holds a previous run of the same data).
        base: a bundle that ships its Stage II teacher; None: the starter model.
        cfg: the settings (default :class:`AdaptConfig`).
        device: ``"cpu"`` / ``"cuda"``; None: CUDA when available.
        progress: progress bars.

    Returns:
        :class:`AdaptResult`.

    Raises:
        ValueError: bad settings, too few recordings, or an ``out_dir`` holding a run of other
            data.
        CheckpointError: a base bundle that ships no teacher, or damaged checkpoints.
        DatasetError: unreadable recordings.
    """
    from worldbridge.generators.options import GeneratorOptions
    from worldbridge.models.bundle import teacher_of
    from worldbridge.recording import load_dataset
    from worldbridge.training.stage2 import finetune_start, train_stage2
    from worldbridge.training.stage3 import distill_stage3

    cfg = cfg or AdaptConfig()
    out = Path(out_dir)
    base_dir = Path(base) if base is not None else GeneratorOptions().bundle_path()
    teacher = finetune_start(base_dir)  # raises when the base ships no teacher
    base_teacher_dir = teacher_of(base_dir) or teacher
    kind = _device_kind(device)
    steps2 = cfg.finetune_steps or DEFAULT_STEPS[kind][0]
    steps3 = cfg.distill_steps or DEFAULT_STEPS[kind][1]
    train, heldout = split_trajectories([Path(p) for p in data], cfg.heldout)
    for p in train + heldout:
        load_dataset(p)  # fail early on an unreadable recording
    split = {"train": [str(p) for p in train], "heldout": [str(p) for p in heldout]}
    _check_or_write_split(out, split)
    timings: dict[str, float] = _read_json(out / "timings.json") or {}
    autoencoder = base_dir / "autoencoder"
    s2 = _stage2_config(base_teacher_dir, cfg, steps2)

    ft = out / "finetune"
    if not (ft / "final").is_dir():
        _timed(timings, "finetune", out, lambda: train_stage2(
            s2, train, autoencoder, ft, init_from=teacher, device=device, progress=progress))
    ft_teacher = ft / "final" / "ema" if (ft / "final" / "ema").is_dir() else ft / "final"
    ds = out / "distill"
    if not (ds / "final").is_dir():
        _timed(timings, "distill", out, lambda: distill_stage3(
            _stage3_config(s2, cfg, steps3), train, ft_teacher, autoencoder, ds, device=device,
            progress=progress, init_student_from=base_dir))
    bundle = out / "bundle"
    if _rank() != 0:  # the other ranks are done once Stage III's final checkpoint is saved
        return AdaptResult(out, bundle)
    if not (bundle / "bundle.json").is_file():
        _timed(timings, "bundle", out, lambda: _write_bundle(
            bundle, ds, autoencoder, ft_teacher, ft, base_dir, split, s2, steps3, timings, kind))
    report = _read_json(out / "report.json")
    if report is None:
        report = _timed(timings, "evaluate", out, lambda: _evaluate(out, base_dir, bundle, heldout, cfg, device))
    return AdaptResult(out, bundle, report)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text()) if path.is_file() else None


def _check_or_write_split(out: Path, split: dict[str, list[str]]) -> None:
    """Refuse to resume a run of other data; write ``split.json`` on a fresh run (rank 0)."""
    previous = _read_json(out / "split.json")
    if previous is not None and previous != split:
        raise ValueError(f"{out} holds an adapt run of other data ({out / 'split.json'}); choose another --out")
    if previous is None and _rank() == 0:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / "split.json", json.dumps(split, indent=2) + "\n")


def _write_bundle(bundle: Path, distill: Path, autoencoder: Path, ft_teacher: Path, ft: Path, base: Path,
                  split: dict[str, list[str]], s2: Any, steps3: int, timings: dict[str, float], kind: str) -> None:
    from worldbridge.models import save_bundle

    base_info = _read_json(base / "bundle.json") or {}
    info = {
        "name": f"{base_info.get('name', base.name)} adapted to {Path(split['train'][0]).parent.name}",
        "base_model": {"name": base_info.get("name"), "path": str(base)},
        "level_data": {"train": split["train"], "heldout": split["heldout"]},
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "recipe": {"finetune_steps": s2.steps, "finetune_lr": s2.lr, "ema_decay": s2.ema_decay,
                   "distill_steps": steps3, "device": kind},
        "training_seconds": {k: round(v, 1) for k, v in timings.items()},
    }
    save_bundle(bundle, distill / "final", autoencoder, info=info, teacher_dir=ft_teacher,
                teacher_config=ft / "stage2.json")


def _evaluate(out: Path, base: Path, bundle: Path, heldout: list[Path], cfg: AdaptConfig,
              device: str | None) -> dict[str, Any]:
    """Both bundles on the held-out trajectories; writes the reports and the bundle's summary."""
    from worldbridge.evaluation import evaluate

    reports = {}
    for name, path in (("before", base), ("after", bundle)):
        target = out / f"eval_{name}.json"
        if not target.is_file():
            r = evaluate(path, heldout, protocol="extrapolation", references=cfg.references,
                         distances=cfg.distances, cases_per_recording=cfg.cases_per_recording, seed=cfg.seed,
                         device=device)
            atomic_write_text(target, r.to_json())
            atomic_write_text(out / f"eval_{name}.md", r.to_markdown())
        reports[name] = json.loads(target.read_text())
    timings = _read_json(out / "timings.json") or {}
    report = compare_reports(reports["before"], reports["after"], cfg, timings)
    atomic_write_text(out / "report.json", json.dumps(report, indent=2, allow_nan=False) + "\n")
    atomic_write_text(out / "report.md", report_markdown(report))
    meta = json.loads((bundle / "bundle.json").read_text())
    meta["evaluation"] = {"protocol": "extrapolation", "heldout": [str(p) for p in heldout],
                          "verdict": report["verdict"], "rows": report["rows"]}
    atomic_write_text(bundle / "bundle.json", json.dumps(meta, indent=2) + "\n")
    return report


def _score(report: dict[str, Any], refs: int, d: int, region: str, metric: str) -> float | None:
    """The served frame model's pooled score (None if absent)."""
    from worldbridge.evaluation.report import pooled_score

    v = pooled_score(report.get("scores", {}), refs, d, "frame-model", region, metric)
    return None if math.isnan(v) else v


def compare_reports(before: dict[str, Any], after: dict[str, Any], cfg: AdaptConfig,
                    timings: dict[str, float]) -> dict[str, Any]:
    """The before/after table of the frame model (anchor-locked, as served) and a verdict.

    Args:
        before, after: :meth:`EvalReport.to_json` dicts of the base and the adapted bundle on
            the same held-out cases.
        cfg: the run's settings (reference counts and distances).
        timings: wall seconds per stage.

    Returns:
        ``{"rows": [...], "verdict": str, "better": bool, "hole_psnr_gain_db": float,
        "training_seconds": {...}}``; each row names references, distance, metric and both
        values with their difference (after - before; None where a value is missing).
    """
    rows: list[dict[str, Any]] = []
    for refs in cfg.references:
        for d in cfg.distances:
            for region, metric, label, sign in HEADLINE:
                b, a = _score(before, refs, d, region, metric), _score(after, refs, d, region, metric)
                delta = None if a is None or b is None else a - b
                rows.append({"references": refs, "distance": d, "metric": label, "before": b, "after": a,
                             "delta": delta, "better": None if delta is None else delta * sign > 0})
    gains = [r["delta"] for r in rows if r["metric"] == HEADLINE[0][2] and r["delta"] is not None]
    gain = sum(gains) / len(gains) if gains else math.nan
    better = bool(gains) and gain > 0
    train_s = sum(v for k, v in timings.items() if k in ("finetune", "distill"))
    cases = len(after.get("cases", []))
    verdict = (f"The adapted bundle {'beats' if better else 'does not beat'} the base on this level's held-out "
               f"trajectories: hole PSNR {gain:+.2f} dB on average over {len(gains)} setting(s) and {cases} "
               f"case(s), "
               f"after {train_s / 60:.1f} min of training ({', '.join(f'{k} {v:.0f} s' for k, v in timings.items())}).")
    return {"rows": rows, "verdict": verdict, "better": better,
            "hole_psnr_gain_db": None if math.isnan(gain) else gain,
            "training_seconds": timings, "settings": asdict(cfg)}


def report_markdown(report: dict[str, Any]) -> str:
    """``report.md``: the verdict, the before/after table and the loss curves."""

    def fmt(x: float | None) -> str:
        return "n/a" if x is None else f"{x:.3f}"

    lines = ["# Adaptation report", "", report["verdict"], "",
             "| refs | distance | metric | before | after | change |", "|---|---|---|---|---|---|"]
    for r in report["rows"]:
        delta = "n/a" if r["delta"] is None else f"{r['delta']:+.3f}"
        lines.append(f"| {r['references']} | {r['distance']} | {r['metric']} | {fmt(r['before'])} | "
                     f"{fmt(r['after'])} | {delta} |")
    lines += ["", "Frame model, anchor-locked (as served), pooled over the held-out cases; warp error is "
              "lower-is-better. Full tables: eval_before.md, eval_after.md.", "",
              "Loss curves: finetune/loss.png, distill/loss.png.", ""]
    return "\n".join(lines)
