"""Stage II: train (or fine-tune) the frame model on recorded engine trajectories.

InSpatio-WorldFM ("InSpatio-WorldFM: An Open-Source Real-Time Generative Frame Model", arXiv 2603.11911),
section 2.4. Noise-prediction loss on the 1000-step schedule, with

* timestep sampling biased towards high noise (``high_noise_bias``),
* progressive condition injection: for ``anchor_start_step`` steps only the reference view
  conditions the model (anchors replaced by the model's null latent), then anchors are
  phased in linearly over ``anchor_ramp_steps``,
* random anchor masking afterwards (``anchor_mask_prob``), on top of the clip sampler's own.

Runs single-process on CPU or GPU and under ``torchrun`` (DDP; gloo on CPU, NCCL on CUDA).
Checkpoints (safetensors + JSON, no pickles) every ``checkpoint_every`` steps; a run
restarted with the same output folder resumes from the latest one (``latest.txt``; see
:mod:`worldbridge.training.trainer_state`), with the noise schedule it was trained with
(``cfg.schedule``, recorded in every checkpoint: PixArt-Sigma's for ``train --pixart``).
"""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import torch
from torch.nn.parallel import DistributedDataParallel

from worldbridge.models.compact_autoencoder import learning_rate_at
from worldbridge.models.schedule import NoiseSchedule, ScheduleConfig
from worldbridge.training.config import Stage2Config
from worldbridge.training.distributed import DistInfo, all_reduce_mean, init_distributed
from worldbridge.training.loop import FINAL_CHECKPOINT, TrainLoop
from worldbridge.training.trainer_state import load_trainer_state, save_trainer_state

EMA_SUBDIR = "ema"
"""Folder of the EMA weights inside a Stage II checkpoint (a frame-model checkpoint)."""

__all__ = ["EMA_SUBDIR", "Stage2Config", "TrainResult", "anchor_keep_probability", "autocast_for",
           "clip_batches", "clip_loader", "frame_model_inputs", "hole_weighted_mse", "train_stage2",
           "update_ema"]


def anchor_keep_probability(step: int, cfg: Stage2Config) -> float:
    """Probability that a training triple sees its anchor at ``step``.

    0 before ``anchor_start_step`` (reference-only phase), a linear ramp over
    ``anchor_ramp_steps`` to ``1 - anchor_mask_prob``, then constant (random masking).
    """
    final = 1.0 - cfg.anchor_mask_prob
    if step < cfg.anchor_start_step:
        return 0.0
    if cfg.anchor_ramp_steps <= 0:
        return final
    return final * min(1.0, (step - cfg.anchor_start_step + 1) / cfg.anchor_ramp_steps)


@dataclass
class TrainResult:
    """What a run produced.

    Attributes:
        steps: the step count reached (total, including resumed steps).
        final_loss: the last loss of this run (NaN if it took no step).
        out_dir: the output folder.
        checkpoint: the final checkpoint folder.
        losses: one loss per step taken by this run (not by the run it resumed).
        resumed_from: the step of the checkpoint this run resumed from (0: fresh start).
    """

    steps: int
    final_loss: float
    out_dir: Path
    checkpoint: Path
    losses: list[float] = field(default_factory=list)
    resumed_from: int = 0


def _model_config(spec: Any):
    from worldbridge.models.config import FrameModelConfig

    if isinstance(spec, str):
        try:
            return getattr(FrameModelConfig, spec)()
        except AttributeError:
            raise ValueError(f"unknown model config {spec!r}: tiny, small or xl") from None
    return FrameModelConfig.from_dict(spec)


def frame_model_inputs(batch: dict[str, torch.Tensor], autoencoder, device: torch.device,
                       config) -> dict[str, torch.Tensor]:
    """Encode a batch of (target, anchor, reference) triples into the model's inputs.

    The conditioning follows the model's config exactly as the inference pipeline does
    (:mod:`worldbridge.models.pipeline`): the one anchor builder's hole value
    (:func:`~worldbridge.memory.anchors.apply_hole_value`), the anchor's latent coverage
    for ``anchor_mask_channel`` models, and world-to-camera translations normalised by the
    reference view's scene scale (``pose_normalization``).

    Args:
        batch: flattened triples from :func:`worldbridge.training.data.collate_clips`:
            ``target_rgb``, ``anchor_rgb``, ``reference_rgb`` ``[N, 3, S, S]`` in [-1, 1],
            ``anchor_mask [N, 1, S, S]``, cameras ``target_w2c``, ``target_K``,
            ``reference_w2c``, ``reference_K``, ``reference_scale [N]`` (metres),
            ``anchor_keep [N]`` bool.
        autoencoder: deterministic encoder (:class:`~worldbridge.models.autoencoder.Autoencoder`).
        device: where the inputs go.
        config: the model's :class:`~worldbridge.models.config.FrameModelConfig`.

    Returns:
        ``x0``, ``anchor``, ``reference`` latents ``[N, C, h, w]`` float32, the normalised
        cameras, ``anchor_keep``, ``coverage [N, 1, h, w]`` (the anchor's coverage per
        latent pixel, for the hole-weighted loss) and ``anchor_mask`` (the same tensor, only
        for models with ``anchor_mask_channel``: the model input), all on ``device``.
    """
    from worldbridge.memory.anchors import apply_hole_value
    from worldbridge.models.conditioning import latent_coverage, normalize_cameras

    coverage = batch["anchor_mask"].to(device=device, dtype=torch.float32)
    anchor_img = apply_hole_value(batch["anchor_rgb"].to(device), coverage, config.anchor_hole_value)
    with torch.no_grad():
        imgs = torch.cat([batch["target_rgb"].to(device), anchor_img, batch["reference_rgb"].to(device)])
        lat = autoencoder.encode(imgs).float()
    x0, anchor, reference = lat.chunk(3)
    out = {"x0": x0, "anchor": anchor, "reference": reference}
    scale = batch["reference_scale"].to(device=device, dtype=torch.float32)
    for k in ("target_w2c", "reference_w2c"):
        out[k] = normalize_cameras(batch[k].to(device=device, dtype=torch.float32), scale,
                                   config.pose_normalization)
    for k in ("target_K", "reference_K"):
        out[k] = batch[k].to(device=device, dtype=torch.float32)
    out["anchor_keep"] = batch["anchor_keep"].to(device)
    out["coverage"] = latent_coverage(coverage, config.latent_size)
    if config.anchor_mask_channel:
        out["anchor_mask"] = out["coverage"]
    return out


def autocast_for(mixed_precision: str, device: torch.device):
    """bf16 autocast for ``"bf16"`` (or ``"auto"`` on CUDA); a no-op context otherwise."""
    use = mixed_precision == "bf16" or (mixed_precision == "auto" and device.type == "cuda")
    return torch.autocast(device.type, dtype=torch.bfloat16) if use else contextlib.nullcontext()


def clip_loader(cfg, data: Sequence[str | Path], image_size: int):
    """The shuffled clip loader shared by Stage II and Stage III.

    ``cfg`` supplies ``clip_len``, ``num_references``, ``targets_per_clip``,
    ``zero_depth_is_sky``, ``batch_clips``, ``num_workers``, ``seed`` and (optionally)
    ``clips``, more :class:`~worldbridge.training.clips.ClipSpec` fields that override the
    others. Anchor masking is left to the trainer (``anchor_mask_prob=0`` here).

    Raises:
        ValueError: no clip of ``clip_len`` frames in ``data``, or bad ``clips`` fields.
    """
    from worldbridge.training.clips import ClipDataset, ClipSpec
    from worldbridge.training.data import make_dataloader

    base = {"clip_len": cfg.clip_len, "num_references": cfg.num_references,
            "targets_per_clip": cfg.targets_per_clip, "zero_depth_is_sky": cfg.zero_depth_is_sky}
    spec = ClipSpec.from_dict({**base, **getattr(cfg, "clips", {}), "image_size": image_size,
                               "anchor_mask_prob": 0.0})
    dataset = ClipDataset([Path(p) for p in data], spec, seed=cfg.seed)
    if len(dataset) == 0:
        raise ValueError(f"no {spec.clip_len}-frame clips in {[str(p) for p in data]}")
    return make_dataloader(dataset, batch_size=cfg.batch_clips, num_workers=cfg.num_workers,
                           seed=cfg.seed, epoch=0, drop_last=False)


def clip_batches(loader, start: int, resume_mid_epoch: bool) -> Iterator[dict[str, torch.Tensor]]:
    """Endless batches of a :func:`clip_loader`, epoch after epoch, for a run starting at
    step ``start`` (one batch per step).

    Args:
        loader: the :class:`~worldbridge.training.data.ClipDataLoader`.
        start: the step count the run resumes from (0: fresh).
        resume_mid_epoch: continue the epoch of step ``start`` where it stopped, so a resumed
            run sees the batches an uninterrupted one sees (Stage III); False: restart that
            epoch from its first batch (Stage II).

    Yields:
        Collated batches (:func:`~worldbridge.training.data.collate_clips`).
    """
    epoch, skip = divmod(start, len(loader))
    if not resume_mid_epoch:
        skip = 0
    while True:
        loader.set_epoch(epoch, skip_batches=skip)
        skip = 0
        yield from loader
        epoch += 1


def finetune_start(path: str | Path) -> Path:
    """The Stage II checkpoint a fine-tune starts from: ``path`` itself, a run's ``final/``, or
    the teacher a bundle ships (InSpatio-WorldFM, arXiv 2603.11911, section 2.4.2: fine-tune the
    diffusion model, then distil again).

    Raises:
        CheckpointError: a bundle that ships no teacher (its student is a distilled 2-step
            model: fine-tuning it would restart diffusion training from it), or a folder that
            is neither a bundle nor a frame-model checkpoint.
    """
    from worldbridge.models.bundle import BUNDLE_FILE, teacher_of
    from worldbridge.models.checkpoint import CheckpointError, checkpoint_dir

    p = Path(path)
    if (p / BUNDLE_FILE).is_file():
        teacher = teacher_of(p)
        if teacher is None:
            raise CheckpointError(f"bundle {str(p)!r} ships no Stage II teacher: its model is a distilled "
                                  "2-step student; fine-tune its teacher checkpoint instead")
        return teacher
    return checkpoint_dir(p)


def train_stage2(cfg: Stage2Config, data: Sequence[str | Path], autoencoder_dir: str | Path,
                 out_dir: str | Path, init_from: str | Path | None = None, device: str | None = None,
                 progress: bool = True) -> TrainResult:
    """Train (``init_from=None``) or fine-tune (``init_from`` = a frame-model checkpoint).

    Args:
        cfg: hyperparameters.
        data: recorded dataset folders (see :mod:`worldbridge.recording`).
        autoencoder_dir: autoencoder checkpoint (compact or diffusers AutoencoderKL folder).
        out_dir: checkpoints, ``stage2.json``, ``loss.jsonl``, ``loss.png``; resumed if it
            already holds a checkpoint.
        init_from: frame-model checkpoint to fine-tune from.
        device: ``"cpu"``/``"cuda"``; default CUDA when available (the local rank's GPU
            under torchrun).
        progress: a progress bar on rank 0.

    Returns:
        :class:`TrainResult` (on every rank; only rank 0 writes files).

    Raises:
        ValueError: bad config, no clips in ``data``, or a checkpoint in ``out_dir`` trained
            with another noise schedule than ``cfg.schedule``; CheckpointError for a bad
            ``init_from``.
    """
    from worldbridge.models.autoencoder_io import load_autoencoder
    from worldbridge.models.checkpoint import load_frame_model
    from worldbridge.models.dit import FrameModel
    dist_info: DistInfo = init_distributed(device)
    dev = dist_info.device
    out = Path(out_dir)
    torch.manual_seed(cfg.seed + dist_info.rank)

    if init_from is not None:
        model = load_frame_model(finetune_start(init_from), device=dev)
    else:
        model = FrameModel(_model_config(cfg.model)).to(dev)
    mcfg = model.config
    if cfg.image_size != mcfg.image_size:
        cfg = replace(cfg, image_size=mcfg.image_size)
    autoencoder = load_autoencoder(autoencoder_dir, device=dev)
    schedule = NoiseSchedule(ScheduleConfig(**cfg.schedule))

    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    ema = copy.deepcopy(model).eval().requires_grad_(False) if cfg.ema_decay > 0 else None

    def load(latest: Path) -> int:
        _check_resume_schedule(latest, cfg.schedule)
        weights = load_frame_model(latest, device=dev)
        model.load_state_dict(weights.state_dict())
        step, _ = load_trainer_state(latest, opt)
        if ema is not None:
            saved = latest / EMA_SUBDIR
            ema.load_state_dict((load_frame_model(saved, device=dev) if saved.is_dir()
                                 else weights).state_dict())
        return step

    loop = TrainLoop(out, cfg.steps, log_every=cfg.log_every, checkpoint_every=cfg.checkpoint_every,
                     desc="stage II", postfix=("loss",), curve_title="Stage II noise-prediction loss",
                     curve_exclude=("lr", "anchor_keep", "s_per_step"), dist=dist_info, progress=progress)
    start = loop.resume(load)
    ddp = DistributedDataParallel(model) if dist_info.distributed else model
    batches = clip_batches(clip_loader(cfg, data, cfg.image_size), start, resume_mid_epoch=False)
    if dist_info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "stage2.json").write_text(cfg.to_json())
    gen = torch.Generator().manual_seed(cfg.seed * 7919 + dist_info.rank + start)

    def step_fn(step: int) -> dict[str, float]:
        inp = frame_model_inputs(next(batches), autoencoder, dev, mcfg)
        n = inp["x0"].shape[0]
        keep_p = anchor_keep_probability(step, cfg)
        keep = inp["anchor_keep"] & (torch.rand(n, generator=gen) < keep_p).to(dev)
        t = schedule.sample_timesteps(n, cfg.high_noise_bias, gen).to(dev)
        eps = torch.randn(inp["x0"].shape, generator=gen).to(dev)
        x_t = schedule.add_noise(inp["x0"], eps, t)
        lr = learning_rate_at(step, cfg.steps, cfg.lr, cfg.warmup_steps, cfg.lr_schedule, cfg.min_lr)
        for g in opt.param_groups:
            g["lr"] = lr
        with autocast_for(cfg.mixed_precision, dev):
            pred = ddp(x_t, t, inp["anchor"], inp["reference"], inp["target_w2c"], inp["target_K"],
                       inp["reference_w2c"], inp["reference_K"], anchor_keep=keep,
                       anchor_mask=inp.get("anchor_mask"))
        loss = hole_weighted_mse(pred.float(), eps, inp["coverage"], keep, cfg.hole_loss_weight)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        if ema is not None:
            update_ema(ema, model, cfg.ema_decay, step)
        return {"loss": float(all_reduce_mean(loss).item()), "grad_norm": float(grad_norm),
                "anchor_keep": keep_p, "lr": lr}

    def save(path: Path, step: int) -> None:
        _save_checkpoint(path, step, model, opt, cfg, ema)

    model.train()
    result = loop.run(step_fn, save)
    losses = [values["loss"] for values in result.history]
    return TrainResult(result.steps, losses[-1] if losses else float("nan"), out, out / FINAL_CHECKPOINT,
                       losses, resumed_from=start)


def _check_resume_schedule(latest: Path, schedule: dict) -> None:
    """Refuse to resume a run with a different noise schedule than its checkpoint's.

    Raises:
        ValueError: naming both schedules (e.g. a ``train --pixart`` run resumed without
            ``--pixart``).
    """
    from worldbridge.models.checkpoint import load_checkpoint_extra

    saved = load_checkpoint_extra(latest).get("schedule")
    if saved and ScheduleConfig(**saved) != ScheduleConfig(**schedule):
        raise ValueError(f"checkpoint {latest} was trained with the noise schedule {saved}, but this run "
                         f"asks for {schedule}; resume with the same schedule (e.g. --pixart again) "
                         "or use a new --out")


def _save_checkpoint(path: Path, step: int, model: torch.nn.Module, opt: torch.optim.Optimizer,
                     cfg: Stage2Config, ema: torch.nn.Module | None) -> None:
    """Write a complete Stage II checkpoint (weights, EMA, optimizer state) to ``path``."""
    from worldbridge.models.checkpoint import save_checkpoint

    extra = {"stage": "II", "step": step, "schedule": cfg.schedule}
    if ema is not None:  # written first: latest.txt never names a checkpoint without its EMA
        save_checkpoint(ema, path / EMA_SUBDIR, extra={**extra, "ema_decay": cfg.ema_decay})
    save_checkpoint(model, path, extra=extra)
    save_trainer_state(path, opt, step, extra={"stage2": json.loads(cfg.to_json())})


def hole_weighted_mse(pred: torch.Tensor, target: torch.Tensor, coverage: torch.Tensor,
                      keep: torch.Tensor, hole_weight: float) -> torch.Tensor:
    """Noise-prediction MSE weighted towards the pixels the anchors do not cover.

    Each latent pixel's squared error (mean over channels) is weighted
    ``w = 1 + hole_weight * (1 - coverage)``; samples whose anchor is dropped count as fully
    uncovered. Each sample's loss is ``sum(w * se) / sum(w)`` and the batch loss their mean,
    so the weighting moves effort between regions of a frame without changing the loss's
    scale (``hole_weight = 0`` is plain MSE).

    Args:
        pred, target: ``[N, C, h, w]`` predicted and true noise.
        coverage: ``[N, 1, h, w]`` anchor coverage per latent pixel in [0, 1].
        keep: ``[N]`` bool, False where the anchor is dropped.
        hole_weight: lambda >= 0.

    Returns:
        A scalar tensor.
    """
    se = (pred - target).square().mean(dim=1, keepdim=True)
    if hole_weight <= 0:
        return se.mean()
    cov = torch.where(keep[:, None, None, None].to(coverage.device), coverage,
                      torch.zeros_like(coverage))
    w = 1.0 + float(hole_weight) * (1.0 - cov)
    return ((w * se).sum(dim=(1, 2, 3)) / w.sum(dim=(1, 2, 3))).mean()


@torch.no_grad()
def update_ema(ema: torch.nn.Module, model: torch.nn.Module, decay: float, step: int) -> None:
    """``ema <- d * ema + (1 - d) * model`` with ``d = min(decay, (1 + step) / (10 + step))``
    (the warm-up of Tarvainen and Valpola 2017 / timm's ModelEmaV2), parameter by parameter;
    buffers are copied."""
    d = min(decay, (1.0 + step) / (10.0 + step))
    for pe, pm in zip(ema.parameters(), model.parameters()):
        pe.lerp_(pm.detach(), 1.0 - d)
    for be, bm in zip(ema.buffers(), model.buffers()):
        be.copy_(bm)
