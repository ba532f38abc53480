"""Command-line front ends of the training package.

``worldbridge train-autoencoder | train | finetune | distill | export-bundle``. Each takes
recorded datasets (``worldbridge.recording``) and writes safetensors + JSON checkpoints.
Multi-GPU / multi-machine: run the same command under ``torchrun`` (DDP).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

__all__ = ["add_training_commands", "run_training_command", "TRAINING_COMMANDS"]

TRAINING_COMMANDS = ("train-autoencoder", "train", "finetune", "distill", "export-bundle")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, nargs="+", required=True, help="recorded dataset folders")
    p.add_argument("--out", type=Path, required=True, help="output folder (resumed if it has checkpoints)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _stage2_args(p: argparse.ArgumentParser) -> None:
    _common(p)
    p.add_argument("--autoencoder", type=Path, required=True, help="autoencoder checkpoint folder")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--batch-clips", type=int, default=2)
    p.add_argument("--targets-per-clip", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-4)
    p.add_argument("--anchor-start-step", type=int, default=0,
                   help="reference-only steps before anchors are phased in")
    p.add_argument("--anchor-ramp-steps", type=int, default=0)
    p.add_argument("--anchor-mask-prob", type=float, default=0.1)
    p.add_argument("--high-noise-bias", type=float, default=1.0)
    p.add_argument("--workers", type=int, default=2, help="data loader processes")
    p.add_argument("--checkpoint-every", type=int, default=500)
    p.add_argument("--log-every", type=int, default=10, help="steps between loss log lines")
    p.add_argument("--seed", type=int, default=0)
    _clip_args(p)
    p.add_argument("--hole-loss-weight", type=float, default=0.0,
                   help="weight the loss 1 + w * (1 - anchor coverage) per latent pixel (0: plain MSE)")
    p.add_argument("--ema-decay", type=float, default=0.0,
                   help="keep an EMA of the weights (e.g. 0.999) in <checkpoint>/ema (0: none)")


def _clip_args(p: argparse.ArgumentParser) -> None:
    """Clip sampling flags shared by train, finetune and distill (ClipSpec fields)."""
    p.add_argument("--clip-len", type=int, default=16)
    p.add_argument("--references", type=int, default=4, help="references per clip (the most)")
    p.add_argument("--reference-layout", choices=("spread", "contiguous"), default="spread",
                   help="spread over the clip (interpolation) or consecutive with targets on both "
                        "sides (extrapolation)")
    p.add_argument("--min-references", type=int, default=None,
                   help="contiguous layout: the fewest references of a clip (default --references)")
    p.add_argument("--reference-gap", type=int, nargs=2, default=[2, 4], metavar=("MIN", "MAX"),
                   help="contiguous layout: clip positions between consecutive references")
    p.add_argument("--max-target-distance", type=int, default=None,
                   help="targets at most this many clip positions from their nearest reference")
    p.add_argument("--point-dropout", type=float, default=0.0,
                   help="up to this fraction of reference depth pixels is not lifted, per clip")
    p.add_argument("--reference-dropout", type=float, default=0.0,
                   help="probability a reference is left out of the point cloud (one always stays)")


def _clip_options(args: argparse.Namespace) -> dict:
    """The ClipSpec overrides the clip flags ask for (only those that differ from spread)."""
    out: dict = {}
    if args.reference_layout != "spread":
        out.update(reference_layout=args.reference_layout, reference_gap=list(args.reference_gap))
    for key in ("min_references", "max_target_distance"):
        if getattr(args, key) is not None:
            out[key] = getattr(args, key)
    for key in ("point_dropout", "reference_dropout"):
        if getattr(args, key):
            out[key] = getattr(args, key)
    return out


def add_training_commands(sub) -> None:
    """Register the training subcommands on an argparse subparsers object."""
    p = sub.add_parser("train-autoencoder", help="train the compact autoencoder on recorded frames")
    _common(p)
    p.add_argument("--config", choices=["tiny", "default"], default="default")
    p.add_argument("--image-size", type=int, default=128)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)

    p = sub.add_parser("train", help="Stage II: train the frame model from scratch")
    _stage2_args(p)
    p.add_argument("--config", default="tiny",
                   help="tiny, small, xl, or a JSON file with FrameModelConfig fields")
    p.add_argument("--pixart", type=Path, default=None,
                   help="initialise the model (use --config xl) from PixArt-Sigma weights on local disk; "
                        "trains with PixArt-Sigma's noise schedule (linear 1e-4..0.02) and needs a "
                        "4-channel f8 autoencoder (the SDXL VAE)")

    p = sub.add_parser("finetune", help="Stage II: fine-tune a checkpoint on a studio's level")
    _stage2_args(p)
    p.add_argument("--from", dest="init_from", type=Path, required=True, help="frame-model checkpoint")

    p = sub.add_parser("distill", help="Stage III: DMD distillation into a 2-step generator")
    _common(p)
    p.add_argument("--teacher", type=Path, required=True, help="Stage II checkpoint (e.g. <run>/final)")
    p.add_argument("--autoencoder", type=Path, required=True)
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--batch-clips", type=int, default=2)
    p.add_argument("--targets-per-clip", type=int, default=4)
    p.add_argument("--fake-updates", type=int, default=5, help="fake-score updates per generator step")
    p.add_argument("--regression-weight", type=float, default=0.25)
    p.add_argument("--teacher-steps", type=int, default=20, help="teacher DDIM steps for regression pairs")
    p.add_argument("--timesteps", type=int, nargs="+", default=[999, 200])
    p.add_argument("--lr", type=float, default=2e-5)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--checkpoint-every", type=int, default=100,
                   help="steps between resumable checkpoints (a rerun with the same --out resumes)")
    p.add_argument("--log-every", type=int, default=10, help="steps between loss log lines")
    p.add_argument("--seed", type=int, default=0)
    _clip_args(p)

    p = sub.add_parser("export-bundle", help="package a distilled model + autoencoder for serving")
    p.add_argument("--model", type=Path, required=True, help="frame-model checkpoint (e.g. <distill>/final)")
    p.add_argument("--autoencoder", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--info", type=Path, default=None, help="JSON file of provenance to store")


def _model_spec(value: str):
    path = Path(value)
    return json.loads(path.read_text()) if path.suffix == ".json" and path.exists() else value


def _frames(data: list[Path], size: int):
    import numpy as np

    from worldbridge.recording import load_dataset
    from worldbridge.training.clips import crop_resize

    out = []
    for d in data:
        ds = load_dataset(d)
        for i in range(len(ds)):
            rgb, _, _ = crop_resize(ds.read_rgb(i), None, ds[i].intrinsics, size)
            out.append(rgb)
    if not out:
        raise ValueError(f"no frames in {[str(d) for d in data]}")
    return np.stack(out)


def run_training_command(args: argparse.Namespace) -> int:
    """Run a parsed training subcommand; returns the exit code."""
    progress = not getattr(args, "no_progress", False)
    if args.command == "train-autoencoder":
        import torch

        from worldbridge.models import CompactAutoencoder, CompactAutoencoderConfig, fit_scaling_factor, train_autoencoder
        from worldbridge.models.autoencoder import rgb_to_tensor

        frames = rgb_to_tensor(_frames(args.data, args.image_size))
        cfg = CompactAutoencoderConfig.tiny() if args.config == "tiny" else CompactAutoencoderConfig()
        model = CompactAutoencoder(cfg)
        device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
        loader = torch.utils.data.DataLoader(frames, batch_size=args.batch, shuffle=True, drop_last=True)
        losses = train_autoencoder(model, loader, args.steps, lr=args.lr, device=device, progress=progress)
        fit_scaling_factor(model, frames[:256])
        model.save(args.out)
        print(f"autoencoder: {len(frames)} frames, L1+edge loss {losses[0]:.4f} -> {losses[-1]:.4f}; "
              f"saved {args.out}")
        return 0
    if args.command in ("train", "finetune"):
        from worldbridge.training.stage2 import Stage2Config, train_stage2

        cfg = Stage2Config(model=_model_spec(getattr(args, "config", "tiny")), steps=args.steps,
                           batch_clips=args.batch_clips, targets_per_clip=args.targets_per_clip, lr=args.lr,
                           anchor_start_step=args.anchor_start_step, anchor_ramp_steps=args.anchor_ramp_steps,
                           anchor_mask_prob=args.anchor_mask_prob, high_noise_bias=args.high_noise_bias,
                           num_workers=args.workers, checkpoint_every=args.checkpoint_every,
                           log_every=args.log_every, seed=args.seed,
                           clip_len=args.clip_len, num_references=args.references,
                           clips=_clip_options(args), hole_loss_weight=args.hole_loss_weight,
                           ema_decay=args.ema_decay)
        init = getattr(args, "init_from", None)
        if init is not None:  # fine-tune with the schedule the checkpoint was trained with
            cfg = replace(cfg, schedule=_checkpoint_schedule(init, cfg.schedule))
        if getattr(args, "pixart", None) is not None:
            from worldbridge.models.schedule import ScheduleConfig

            cfg = replace(cfg, schedule=ScheduleConfig.pixart().to_dict())
            init = _pixart_init(cfg, args.pixart, args.autoencoder, args.out)
        r = train_stage2(cfg, args.data, args.autoencoder, args.out, init_from=init, device=args.device,
                         progress=progress)
        print(f"stage II: {r.steps} steps, last loss {r.final_loss:.4f}; checkpoint {r.checkpoint}")
        return 0
    if args.command == "distill":
        from worldbridge.training.stage3 import Stage3Config, distill_stage3

        cfg = Stage3Config(steps=args.steps, batch_clips=args.batch_clips, targets_per_clip=args.targets_per_clip,
                           lr_generator=args.lr, lr_fake=args.lr, fake_updates_per_step=args.fake_updates,
                           regression_weight=args.regression_weight, teacher_ddim_steps=args.teacher_steps,
                           timesteps=args.timesteps, num_workers=args.workers, seed=args.seed,
                           clip_len=args.clip_len, num_references=args.references,
                           checkpoint_every=args.checkpoint_every, log_every=args.log_every,
                           clips=_clip_options(args))
        r = distill_stage3(cfg, args.data, args.teacher, args.autoencoder, args.out, device=args.device,
                           progress=progress)
        resumed = f" (resumed from step {r.resumed_from})" if r.resumed_from else ""
        print(f"stage III: {r.steps} steps{resumed}; generator {r.checkpoint}")
        return 0
    if args.command == "export-bundle":
        from worldbridge.models import save_bundle

        info = json.loads(args.info.read_text()) if args.info else None
        out = save_bundle(args.out, args.model, args.autoencoder, info=info)
        print(f"bundle written to {out}")
        return 0
    raise ValueError(f"not a training command: {args.command}")


def _checkpoint_schedule(checkpoint: Path, default: dict) -> dict:
    """The noise schedule a frame-model checkpoint records (``default`` if it records none)."""
    from worldbridge.models import load_checkpoint_extra

    return load_checkpoint_extra(checkpoint).get("schedule") or default


def _pixart_init(cfg, pixart_path: Path, autoencoder_dir: Path, out: Path) -> Path:
    """Check the setup against PixArt-Sigma, build the configured model, load PixArt-Sigma
    weights into it and save it (with ``cfg.schedule``, PixArt's) as ``out/pixart_init``.

    The autoencoder and the model config are checked first (4 latent channels, f8,
    ``latent_size * 8 == image_size``), before the large weight file is read. A run that
    resumes (``out`` already has a checkpoint) reuses ``out/pixart_init``.

    Raises:
        ValueError: the autoencoder or the config does not fit PixArt-Sigma (naming what
            differs); CheckpointError: unreadable or ill-fitting weights.
    """
    from worldbridge.models import (FrameModel, check_pixart_setup, load_autoencoder, load_pixart_sigma_weights,
                                    save_checkpoint)
    from worldbridge.training.stage2 import _model_config
    from worldbridge.training.trainer_state import latest_checkpoint

    config = _model_config(cfg.model)
    check_pixart_setup(config, load_autoencoder(autoencoder_dir, device="cpu"))
    path = out / "pixart_init"
    if latest_checkpoint(out) is not None and (path / "model.safetensors").is_file():
        return path
    model = FrameModel(config)
    report = load_pixart_sigma_weights(model, pixart_path)
    print(report.summary())
    return save_checkpoint(model, path, extra={"stage": "pixart-init", "schedule": cfg.schedule,
                                               "pixart_weights": str(pixart_path)})
