"""Long, resumable training runs of the compact autoencoder (``worldbridge train-autoencoder``).

A run trains a :class:`~worldbridge.models.CompactAutoencoder` on recorded frames and
writes into one output folder:

* ``autoencoder_train.json``: the run's :class:`AutoencoderTrainConfig`;
* ``checkpoints/step_NNNNNNN/``: every ``checkpoint_every`` steps and at the end, the
  autoencoder checkpoint (``autoencoder.safetensors`` + ``autoencoder.json``, the format of
  :meth:`~worldbridge.models.CompactAutoencoder.save`) and the optimizer state
  (``optimizer.safetensors`` + ``trainer_state.json``,
  :mod:`~worldbridge.training.trainer_state`); ``latest.txt`` names the newest complete
  one, and only the newest ``keep_checkpoints`` are kept (the loop of
  :class:`~worldbridge.training.loop.TrainLoop`, shared with Stage II and Stage III);
* ``loss.jsonl`` / ``loss.png``: the training loss and its terms every ``log_every`` steps
  (:class:`~worldbridge.training.loss_log.LossLog`);
* ``eval.jsonl`` / ``eval.png``: the held-out round trip (pooled PSNR, mean SSIM,
  :func:`~worldbridge.evaluation.autoencoder.evaluate_autoencoder`) every ``eval_every``
  steps and at the end;
* ``autoencoder.safetensors`` + ``autoencoder.json`` (the folder is an autoencoder
  checkpoint, ``--autoencoder <out>``): the final weights with the fitted scaling factor;
* ``eval.json``: the final held-out evaluation with encode / decode times, the training
  wall time and seconds per step, thread count and load average.

Rerunning with the same output folder resumes from ``latest.txt``. The initial weights are
drawn from ``seed``, and every random draw of step ``n`` (the frames of the batch, crop
offsets, flips, the posterior noise) comes from a generator seeded by ``(seed, n)``
(:func:`~worldbridge.training.trainer_state.step_generator`), so on the same device and
thread count a resumed run ends with the same weights as an uninterrupted one. A resumed
run may raise ``steps`` (the cosine schedule is then stretched to the new length from the
step it resumes at) and change the logging, checkpoint and evaluation intervals; every
other setting, the model and the training frames must match the checkpoint's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from worldbridge.models.compact_autoencoder import (
    CompactAutoencoder,
    CompactAutoencoderConfig,
    fit_scaling_factor,
    learning_rate_at,
    make_optimizer,
    train_step,
)
from worldbridge.training.config import AutoencoderTrainConfig
from worldbridge.training.loop import TrainLoop
from worldbridge.training.loss_log import LossLog, save_figure
from worldbridge.training.trainer_state import (
    STATE_FILE,
    TrainerStateError,
    load_trainer_state,
    save_trainer_state,
    step_generator,
)

__all__ = [
    "EVAL_NAME",
    "TRAIN_CONFIG_NAME",
    "AutoencoderRunResult",
    "AutoencoderTrainConfig",
    "plot_eval_curve",
    "sample_batch",
    "train_autoencoder_run",
]

TRAIN_CONFIG_NAME = "autoencoder_train.json"
"""File of the run's :class:`AutoencoderTrainConfig` in the output folder."""

EVAL_NAME = "eval.json"
"""File of the final held-out evaluation in the output folder."""

_RESUMABLE_CHANGES = ("steps", "checkpoint_every", "log_every", "eval_every", "keep_checkpoints",
                      "eval_timing_repeats")


@dataclass
class AutoencoderRunResult:
    """What :func:`train_autoencoder_run` did.

    Attributes:
        steps: the step the model is at (``config.steps``).
        resumed_from: the step it resumed from (0 for a fresh run).
        final_loss: the total loss of the last step run by this call (NaN if none ran).
        checkpoint: the output folder, an autoencoder checkpoint with the fitted scaling
            factor.
        eval: the final held-out evaluation (None without held-out frames).
        train_seconds: wall time of the optimiser steps run by this call, seconds.
        seconds_per_step: their median wall time, seconds (NaN if none ran).
    """

    steps: int
    resumed_from: int
    final_loss: float
    checkpoint: Path
    eval: dict[str, Any] | None
    train_seconds: float
    seconds_per_step: float


def _frames_uint8(frames: Any, name: str) -> torch.Tensor:
    """uint8 ``[N, H, W, 3]`` (numpy or torch) or float ``[N, 3, H, W]`` in [-1, 1] ->
    uint8 ``[N, 3, H, W]`` CPU tensor (floats are rounded to 8 bits)."""
    if isinstance(frames, np.ndarray):
        frames = torch.from_numpy(np.ascontiguousarray(frames))
    if not isinstance(frames, torch.Tensor) or frames.ndim != 4:
        got = tuple(frames.shape) if isinstance(frames, torch.Tensor) else type(frames).__name__
        raise ValueError(f"{name} must be uint8 [N, H, W, 3] or floating [N, 3, H, W], got {got}")
    if frames.dtype == torch.uint8:
        if frames.shape[-1] != 3:
            raise ValueError(f"uint8 {name} must be [N, H, W, 3], got {tuple(frames.shape)}")
        out = frames.permute(0, 3, 1, 2)
    elif frames.is_floating_point():
        if frames.shape[1] != 3:
            raise ValueError(f"floating {name} must be [N, 3, H, W], got {tuple(frames.shape)}")
        out = frames.detach().float().add(1.0).mul(127.5).round().clamp(0, 255).to(torch.uint8)
    else:
        raise ValueError(f"{name} must be uint8 or floating, got {frames.dtype}")
    if out.shape[0] == 0:
        raise ValueError(f"{name} holds no frames")
    return out.cpu().contiguous()


def sample_batch(frames: torch.Tensor, step: int, config: AutoencoderTrainConfig
                 ) -> tuple[torch.Tensor, torch.Generator]:
    """The training batch of ``step`` and the generator for the rest of its draws.

    Frames are drawn uniformly with replacement, then each is cropped at a uniform random
    offset (``config.crop_size``) and flipped left-right with probability 1/2
    (``config.hflip``); every draw comes from ``step_generator(config.seed, step)``.

    Args:
        frames: uint8 ``[N, 3, H, W]`` training frames.
        step: the 0-based optimiser step.
        config: the run's settings.

    Returns:
        ``(images, generator)``: ``[B, 3, S, S]`` (or ``[B, 3, H, W]``) float32 in
        ``[-1, 1]`` on the CPU, and the step's generator, to draw the posterior noise from.
    """
    g = step_generator(config.seed, step)
    n, _, h, w = frames.shape
    b = config.batch_size
    idx = torch.randint(n, (b,), generator=g)
    x = frames[idx]
    if config.crop_size is not None and (config.crop_size, config.crop_size) != (h, w):
        s = config.crop_size
        ys = torch.randint(h - s + 1, (b,), generator=g).tolist()
        xs = torch.randint(w - s + 1, (b,), generator=g).tolist()
        x = torch.stack([x[i, :, y:y + s, c:c + s] for i, (y, c) in enumerate(zip(ys, xs))])
    if config.hflip:
        flip = torch.rand(b, generator=g) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    return x.float().div_(127.5).sub_(1.0), g


def _fingerprint(frames: torch.Tensor) -> str:
    """SHA-1 of the training frames' bytes and shape (resume checks the data is the same)."""
    h = hashlib.sha1(repr(tuple(frames.shape)).encode())
    h.update(frames.numpy().tobytes())
    return h.hexdigest()


def _noise_generator(g: torch.Generator, device: torch.device) -> torch.Generator:
    """A generator on ``device`` seeded from the step's CPU generator."""
    seed = int(torch.randint(2 ** 62, (1,), generator=g))
    return torch.Generator(device=device).manual_seed(seed)


def _check_resume(latest: Path, model_config: CompactAutoencoderConfig,
                  config: AutoencoderTrainConfig, fingerprint: str, extra: dict) -> None:
    saved_model = CompactAutoencoderConfig.from_dict(extra.get("model", {}))
    if dataclasses.replace(saved_model, scaling_factor=1.0) != dataclasses.replace(
            model_config, scaling_factor=1.0):
        raise ValueError(f"checkpoint {latest} holds an autoencoder {saved_model.to_dict()}, but "
                         f"this run asks for {model_config.to_dict()}; use the same model "
                         "flags or a new output folder")
    saved = extra.get("train", {})
    now = config.to_dict()
    differ = sorted(k for k in now if k not in _RESUMABLE_CHANGES and saved.get(k) != now[k])
    if differ:
        pairs = ", ".join(f"{k}: {saved.get(k)!r} -> {now[k]!r}" for k in differ)
        raise ValueError(f"checkpoint {latest} was trained with other settings ({pairs}); "
                         "resume with the same settings (only steps and the log / checkpoint / "
                         "eval intervals may change) or use a new output folder")
    if extra.get("frames_sha1") != fingerprint:
        raise ValueError(f"checkpoint {latest} was trained on other frames ({extra.get('frames')} "
                         f"frames, sha1 {extra.get('frames_sha1')}); resume with the same --data")


def plot_eval_curve(log: LossLog, png: str | Path, title: str = "held-out round trip") -> Path:
    """Plot the held-out PSNR (dB, left axis) and SSIM (right axis) of ``log`` against the step.

    Raises:
        ValueError: the log has no evaluation rows.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in log.read() if "psnr" in r and "ssim" in r]
    if not rows:
        raise ValueError(f"no evaluations logged in {log.path}")
    steps = [r["step"] for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=110)
    ax.plot(steps, [r["psnr"] for r in rows], "o-", color="tab:blue", label="PSNR (dB)")
    ax.set_xlabel("step")
    ax.set_ylabel("PSNR, dB (pooled)", color="tab:blue")
    ax2 = ax.twinx()
    ax2.plot(steps, [r["ssim"] for r in rows], "s-", color="tab:orange", label="SSIM")
    ax2.set_ylabel("SSIM (mean)", color="tab:orange")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    return save_figure(fig, png)


def train_autoencoder_run(model_config: CompactAutoencoderConfig, frames: Any, out: str | Path,
                          config: AutoencoderTrainConfig | None = None, heldout: Any = None,
                          device: Any = None, progress: bool = True) -> AutoencoderRunResult:
    """Train (or resume training) a compact autoencoder into ``out`` (see the module docstring).

    Args:
        model_config: the architecture (its ``scaling_factor`` is ignored: it is fitted at
            the end on up to 256 evenly spaced training frames).
        frames: training frames, uint8 ``[N, H, W, 3]`` (numpy or torch, as recorded) or a
            floating ``[N, 3, H, W]`` tensor in ``[-1, 1]`` (rounded to 8 bits); H, W
            multiples of f.
        out: the output folder (created; resumed when it holds checkpoints).
        config: the run settings (default ``AutoencoderTrainConfig()``).
        heldout: held-out frames in the same forms, or None (no evaluation).
        device: ``"cpu"``, ``"cuda"``... (default: CUDA when available).
        progress: show a tqdm progress bar.

    Returns:
        An :class:`AutoencoderRunResult`.

    Raises:
        ValueError: bad frames or settings (a crop larger than the frames or not a multiple
            of f, frames not multiples of f), or a checkpoint in ``out`` trained with another
            model, other settings or other frames.
        AutoencoderCheckpointError, TrainerStateError: a damaged checkpoint in ``out``.
    """
    from worldbridge.evaluation.autoencoder import evaluate_autoencoder, heldout_images

    config = AutoencoderTrainConfig() if config is None else config
    if not isinstance(config, AutoencoderTrainConfig):
        raise ValueError(f"config must be an AutoencoderTrainConfig, got {type(config).__name__}")
    if not isinstance(model_config, CompactAutoencoderConfig):
        raise ValueError(f"model_config must be a CompactAutoencoderConfig, got "
                         f"{type(model_config).__name__}")
    model_config = dataclasses.replace(model_config, scaling_factor=1.0)
    f = model_config.downsample
    train = _frames_uint8(frames, "frames")
    _, _, h, w = train.shape
    if h % f or w % f:
        raise ValueError(f"training frames of {h} x {w} pixels are not multiples of f = {f}")
    if config.crop_size is not None and (config.crop_size % f or config.crop_size > min(h, w)):
        raise ValueError(f"crop_size must be a multiple of f = {f} and at most the frame size "
                         f"{h} x {w}, got {config.crop_size}")
    held = heldout_images(heldout) if heldout is not None else None
    dev = torch.device(device if device is not None else
                       ("cuda" if torch.cuda.is_available() else "cpu"))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    fingerprint = _fingerprint(train)

    with torch.random.fork_rng(devices=[]):  # the initial weights come from the seed too
        torch.manual_seed(config.seed)
        model = CompactAutoencoder(model_config)
    opt = make_optimizer(model, config.lr)

    def load(latest: Path) -> int:
        saved = CompactAutoencoder.load(latest)
        try:
            meta = json.loads((latest / STATE_FILE).read_text())
        except (OSError, ValueError) as e:
            raise TrainerStateError(f"cannot read {latest / STATE_FILE}: {e}") from None
        _check_resume(latest, model_config, config, fingerprint, meta.get("extra", {}))
        model.load_state_dict(saved.state_dict())
        model.to(dev)  # AdamW state tensors are created on the parameters' device by load_state_dict
        return load_trainer_state(latest, opt)[0]

    loop = TrainLoop(out, config.steps, log_every=config.log_every, checkpoint_every=config.checkpoint_every,
                     desc="autoencoder", postfix=("loss", "l1"), curve_title="autoencoder training loss",
                     curve_exclude=("lr", "s_per_step", "grad_norm"), final_checkpoint=None,
                     keep_checkpoints=config.keep_checkpoints, progress=progress)
    start = loop.resume(load)
    model.to(dev)
    (out / TRAIN_CONFIG_NAME).write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    extra = {"model": model_config.to_dict(), "train": config.to_dict(), "frames": int(train.shape[0]),
             "frames_sha1": fingerprint}
    eval_log = LossLog(out / "eval.jsonl")
    eval_log.truncate(start)

    def evaluate(step: int, timing: int) -> dict[str, Any]:
        was = model.training
        model.eval()
        try:
            report = evaluate_autoencoder(model, held, timing_repeats=timing, device=dev)
        finally:
            model.train(was)
        eval_log.append(step, psnr=report["psnr"], ssim=report["ssim"])
        plot_eval_curve(eval_log, out / "eval.png")
        return report

    def step_fn(step: int) -> dict[str, float]:
        x, g = sample_batch(train, step, config)
        x = x.to(dev, model.dtype)
        lr = learning_rate_at(step, config.steps, config.lr, config.warmup_steps, config.lr_schedule,
                              config.min_lr)
        loss, parts, grad_norm = train_step(model, opt, x, config.loss, lr, config.max_grad_norm,
                                            _noise_generator(g, dev))
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        return {"loss": loss, **parts, "lr": lr, "grad_norm": grad_norm}

    def save(path: Path, step: int) -> None:
        model.save(path)
        save_trainer_state(path, opt, step, extra=extra)

    def periodic_eval(step: int) -> None:
        if held is not None and config.eval_every and step % config.eval_every == 0 and step < config.steps:
            evaluate(step, 0)

    model.train()
    try:
        result = loop.run(step_fn, save, after_step=periodic_eval)
    finally:
        model.eval()
    final_step, times = result.steps, result.seconds
    n = train.shape[0]
    pick = torch.linspace(0, n - 1, min(n, 256)).round().long().unique()
    fit_scaling_factor(model, train[pick].float().div(127.5).sub(1.0).to(dev))
    model.save(out)
    train_seconds = float(sum(times))
    report = None
    if held is not None:
        eval_log.truncate(final_step - 1)  # a rerun of a finished run replaces its last row
        report = evaluate(final_step, config.eval_timing_repeats)
        report = {"step": final_step, **report,
                  "parameters": model.num_parameters(),
                  "model": model.config.to_dict(), "train": config.to_dict(),
                  "train_frames": int(n), "resumed_from": start,
                  "train_seconds_this_call": train_seconds,
                  "seconds_per_step_median": float(np.median(times)) if times else float("nan"),
                  "seconds_per_step_mean": train_seconds / len(times) if times else float("nan"),
                  "train_device": str(dev),
                  "load_average_end": [round(v, 2) for v in os.getloadavg()]}
        (out / EVAL_NAME).write_text(json.dumps(report, indent=2) + "\n")
    last_loss = result.history[-1]["loss"] if result.history else float("nan")
    return AutoencoderRunResult(
        steps=final_step, resumed_from=start, final_loss=last_loss, checkpoint=out, eval=report,
        train_seconds=train_seconds,
        seconds_per_step=float(np.median(times)) if times else float("nan"))
