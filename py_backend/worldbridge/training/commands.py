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
from typing import Any

from worldbridge.training.adapt import AdaptConfig
from worldbridge.training.config import AutoencoderTrainConfig, Stage2Config, Stage3Config
from worldbridge.training.flags import add_config_arguments, config_from_args

__all__ = ["TRAINING_COMMANDS", "add_training_commands", "run_training_command"]

TRAINING_COMMANDS = ("train-autoencoder", "train", "finetune", "distill", "export-bundle", "adapt")

_STAGE2_FLAGS = ("steps", "batch_clips", "targets_per_clip", "lr", "anchor_start_step", "anchor_ramp_steps",
                 "anchor_mask_prob", "high_noise_bias", "num_workers", "checkpoint_every", "log_every", "seed",
                 "clip_len", "num_references", "hole_loss_weight", "ema_decay", "lr_schedule", "min_lr")
"""The Stage2Config fields ``train`` and ``finetune`` take as flags (``train`` also ``model``)."""

_STAGE3_FLAGS = ("steps", "batch_clips", "targets_per_clip", "fake_updates_per_step", "regression_weight",
                 "teacher_ddim_steps", "timesteps", "lr_generator", "num_workers", "checkpoint_every",
                 "log_every", "seed", "clip_len", "num_references")
"""The Stage3Config fields ``distill`` takes as flags (its ``--lr`` also sets ``lr_fake``)."""

_AUTOENCODER_FLAGS = ("crop_size", "hflip", "steps", "batch_size", "lr", "lr_schedule", "eval_every",
                      "checkpoint_every", "log_every", "seed")
"""The AutoencoderTrainConfig fields ``train-autoencoder`` takes as flags."""

_AUTOENCODER_RECIPE = {"lr_schedule": "cosine", "eval_every": 500}
"""Where ``train-autoencoder``'s defaults differ from AutoencoderTrainConfig's: cosine decay,
held-out evaluations every 500 steps (and the flags declared by hand: min_lr = lr / 20, a
warm-up of min(100, steps / 10) steps, and the recipe's loss weights, 1 - SSIM at 0.2; the
weights are not generated because AutoencoderLossConfig lives in the model package, which
loads PyTorch, and the parsers must not)."""


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", type=Path, nargs="+", required=True, help="recorded dataset folders")
    p.add_argument("--out", type=Path, required=True, help="output folder (resumed if it has checkpoints)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def _stage2_args(p: argparse.ArgumentParser) -> None:
    _common(p)
    p.add_argument("--autoencoder", type=Path, required=True, help="autoencoder checkpoint folder")
    add_config_arguments(p, Stage2Config, _STAGE2_FLAGS)
    _clip_args(p)


def _clip_args(p: argparse.ArgumentParser) -> None:
    """Clip sampling flags shared by train, finetune and distill (ClipSpec fields beyond the
    configs' ``clip_len`` and ``num_references``, passed on in the configs' ``clips``)."""
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
    p = sub.add_parser("train-autoencoder", help="train the compact autoencoder on recorded frames",
                       description="Train the compact KL autoencoder on recorded frames (resumable: "
                                   "a rerun with the same --out continues from its last checkpoint). "
                                   "With --heldout, the held-out round trip (pooled PSNR, mean SSIM, "
                                   "encode / decode ms) is printed and written to <out>/eval.json, and "
                                   "its curve to <out>/eval.png; the loss curve is <out>/loss.png.")
    _common(p)
    p.add_argument("--config", choices=["tiny", "default"], default="default",
                   help="base architecture: default (f=8, C=4, block channels 32 64 128 128) or tiny "
                        "(8 16 16 16); the flags below change it")
    p.add_argument("--latent-channels", type=int, default=None, help="latent channels C")
    p.add_argument("--downsample", type=int, choices=[4, 8], default=None,
                   help="downsampling factor f (without --block-channels: keeps the base config's first "
                        "log2(f / patch size) + 1 levels)")
    p.add_argument("--block-channels", type=int, nargs="+", default=None,
                   help="channels per resolution level, highest first")
    p.add_argument("--patch-size", type=int, default=None,
                   help="pixels per side rearranged into channels before the first level (and back after "
                        "the last); f = patch size * 2 ** (levels - 1)")
    p.add_argument("--layers-per-block", type=int, default=None, help="ResNet blocks per level")
    p.add_argument("--image-size", type=int, default=128, help="training and evaluation resolution, pixels")
    add_config_arguments(p, AutoencoderTrainConfig, _AUTOENCODER_FLAGS, defaults=_AUTOENCODER_RECIPE)
    p.add_argument("--min-lr", type=float, default=None, help="final learning rate of the cosine "
                   "schedule (default: lr / 20)")
    p.add_argument("--warmup-steps", type=int, default=None, help="linear warm-up (default: min(100, steps / 10))")
    p.add_argument("--ssim-weight", type=float, default=0.2, help="weight of the 1 - SSIM loss term")
    p.add_argument("--gradient-weight", type=float, default=0.5, help="weight of the finite-difference L1 term")
    p.add_argument("--kl-weight", type=float, default=1e-5, help="weight of the KL term")
    p.add_argument("--heldout", type=Path, nargs="+", default=None,
                   help="held-out dataset folders: evaluate the round trip on them")
    p.add_argument("--threads", type=int, default=None, help="PyTorch intra-op threads (default: torch's)")

    p = sub.add_parser("train", help="Stage II: train the frame model from scratch")
    _stage2_args(p)
    add_config_arguments(p, Stage2Config, ("model",))
    p.add_argument("--pixart", type=Path, default=None,
                   help="initialise the model (use --config xl) from PixArt-Sigma weights on local disk; "
                        "trains with PixArt-Sigma's noise schedule (linear 1e-4..0.02) and needs a "
                        "4-channel f8 autoencoder (the SDXL VAE)")

    p = sub.add_parser("finetune", help="Stage II: fine-tune a checkpoint on a studio's level")
    _stage2_args(p)
    p.add_argument("--from", dest="init_from", type=Path, required=True,
                   help="a bundle (fine-tunes the Stage II teacher it ships), a Stage II run or checkpoint")

    p = sub.add_parser("distill", help="Stage III: DMD distillation into a 2-step generator")
    _common(p)
    p.add_argument("--teacher", type=Path, required=True, help="Stage II checkpoint (e.g. <run>/final)")
    p.add_argument("--student-from", type=Path, default=None,
                   help="start the generator from this checkpoint or bundle (e.g. the student distilled "
                        "before a fine-tune) instead of a copy of the teacher")
    p.add_argument("--autoencoder", type=Path, required=True)
    add_config_arguments(p, Stage3Config, _STAGE3_FLAGS)
    _clip_args(p)

    p = sub.add_parser("export-bundle", help="package a distilled model + autoencoder for serving")
    p.add_argument("--model", type=Path, required=True, help="frame-model checkpoint (e.g. <distill>/final)")
    p.add_argument("--autoencoder", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--info", type=Path, default=None, help="JSON file of provenance to store")
    p.add_argument("--teacher", type=Path, default=None,
                   help="ship this Stage II checkpoint (the distillation's teacher) in the bundle's teacher/")
    p.add_argument("--teacher-config", type=Path, default=None, help="its stage2.json, shipped beside it")

    p = sub.add_parser("adapt", help="adapt a bundle to a level: hold out trajectories, fine-tune its teacher, "
                                     "distil, bundle, evaluate before and after")
    _common(p)
    p.add_argument("--from", dest="base", type=Path, default=None,
                   help="the bundle to adapt; it must ship its Stage II teacher (default: the starter model)")
    add_config_arguments(p, AdaptConfig)


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
        return _train_autoencoder_command(args, progress)
    if args.command in ("train", "finetune"):
        from worldbridge.training.stage2 import train_stage2

        overrides = {"clips": _clip_options(args)}
        if hasattr(args, "config"):  # train: a model name or a JSON file of FrameModelConfig fields
            overrides["model"] = _model_spec(args.config)
        cfg = config_from_args(Stage2Config, args, **overrides)
        init = getattr(args, "init_from", None)
        if init is not None:  # fine-tune with the schedule the checkpoint was trained with
            from worldbridge.training.stage2 import finetune_start

            cfg = replace(cfg, schedule=_checkpoint_schedule(finetune_start(init), cfg.schedule))
        if getattr(args, "pixart", None) is not None:
            from worldbridge.models.schedule import ScheduleConfig

            cfg = replace(cfg, schedule=ScheduleConfig.pixart().to_dict())
            init = _pixart_init(cfg, args.pixart, args.autoencoder, args.out)
        r = train_stage2(cfg, args.data, args.autoencoder, args.out, init_from=init, device=args.device,
                         progress=progress)
        print(f"stage II: {r.steps} steps, last loss {r.final_loss:.4f}; checkpoint {r.checkpoint}")
        return 0
    if args.command == "distill":
        from worldbridge.training.stage3 import distill_stage3

        cfg = config_from_args(Stage3Config, args, lr_fake=args.lr, clips=_clip_options(args))
        r = distill_stage3(cfg, args.data, args.teacher, args.autoencoder, args.out, device=args.device,
                           progress=progress, init_student_from=args.student_from)
        resumed = f" (resumed from step {r.resumed_from})" if r.resumed_from else ""
        print(f"stage III: {r.steps} steps{resumed}; generator {r.checkpoint}")
        return 0
    if args.command == "adapt":
        from worldbridge.training.adapt import adapt

        res = adapt(args.data, args.out, base=args.base, cfg=config_from_args(AdaptConfig, args),
                    device=args.device, progress=progress)
        if res.report is not None:
            print(res.report["verdict"])
            print(f"adapted bundle: {res.bundle}; report: {res.out_dir / 'report.md'}")
        return 0
    if args.command == "export-bundle":
        from worldbridge.models import save_bundle

        info = json.loads(args.info.read_text()) if args.info else None
        out = save_bundle(args.out, args.model, args.autoencoder, info=info, teacher_dir=args.teacher,
                          teacher_config=args.teacher_config)
        print(f"bundle written to {out}")
        return 0
    raise ValueError(f"not a training command: {args.command}")


def _autoencoder_config(args: argparse.Namespace):
    """The CompactAutoencoderConfig the train-autoencoder flags ask for.

    Raises:
        ValueError: ``--downsample`` and ``--block-channels`` that disagree, or an invalid
            config.
    """
    from worldbridge.models import CompactAutoencoderConfig

    cfg = CompactAutoencoderConfig.tiny() if args.config == "tiny" else CompactAutoencoderConfig()
    patch = args.patch_size if args.patch_size is not None else cfg.patch_size
    if patch < 1:
        raise ValueError(f"--patch-size must be >= 1, got {patch}")
    chans = list(cfg.block_channels)
    if args.block_channels is not None:
        chans = list(args.block_channels)
        f = patch * 2 ** (len(chans) - 1)
        if args.downsample is not None and f != args.downsample:
            raise ValueError(f"--block-channels {' '.join(map(str, chans))} with patch size {patch} "
                             f"gives f = {f}, but --downsample is {args.downsample}")
    elif args.downsample is not None:
        if args.downsample % patch or (args.downsample // patch) & (args.downsample // patch - 1):
            raise ValueError(f"--downsample {args.downsample} is not patch size {patch} times a "
                             "power of 2")
        levels = (args.downsample // patch).bit_length()  # f / patch = 2 ** (levels - 1)
        chans = (chans + [chans[-1]] * levels)[:levels]
    changes: dict[str, Any] = {"block_channels": tuple(chans), "patch_size": patch}
    if args.latent_channels is not None:
        changes["latent_channels"] = args.latent_channels
    if args.layers_per_block is not None:
        changes["layers_per_block"] = args.layers_per_block
    return replace(cfg, **changes)


def _train_autoencoder_command(args: argparse.Namespace, progress: bool) -> int:
    """``worldbridge train-autoencoder``; a bad flag, or an --out holding a run with other
    settings, is reported on stderr with exit code 2."""
    import sys

    try:
        return _train_autoencoder(args, progress)
    except ValueError as e:
        print(f"worldbridge train-autoencoder: {e}", file=sys.stderr)
        return 2


def _train_autoencoder(args: argparse.Namespace, progress: bool) -> int:
    import os

    import torch

    from worldbridge.models.compact_autoencoder import AutoencoderLossConfig, CompactAutoencoder
    from worldbridge.training.autoencoder import train_autoencoder_run

    if args.threads is not None:
        if args.threads < 1:
            raise ValueError(f"--threads must be >= 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    model_cfg = _autoencoder_config(args)
    cfg = config_from_args(
        AutoencoderTrainConfig, args,
        min_lr=args.min_lr if args.min_lr is not None else args.lr / 20,
        warmup_steps=args.warmup_steps if args.warmup_steps is not None else min(100, args.steps // 10),
        loss=AutoencoderLossConfig(gradient_weight=args.gradient_weight, ssim_weight=args.ssim_weight,
                                   kl_weight=args.kl_weight))
    frames = _frames(args.data, args.image_size)
    heldout = _frames(args.heldout, args.image_size) if args.heldout else None
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    r = train_autoencoder_run(model_cfg, frames, args.out, cfg, heldout=heldout, device=device,
                              progress=progress)
    resumed = f" (resumed from step {r.resumed_from})" if r.resumed_from else ""
    f, c = model_cfg.downsample, model_cfg.latent_channels
    params = CompactAutoencoder.load(args.out).num_parameters()
    print(f"autoencoder f={f} C={c} {list(model_cfg.block_channels)} patch {model_cfg.patch_size}, "
          f"{params} parameters: {len(frames)} frames, "
          f"{r.steps} steps{resumed}, {r.seconds_per_step:.3f} s/step median "
          f"({torch.get_num_threads()} threads, load {os.getloadavg()[0]:.2f}), last loss "
          f"{r.final_loss:.4f}; saved {args.out}")
    if r.eval is not None:
        e = r.eval
        timing = (f"; encode {e['encode_ms']:.1f} ms, decode {e['decode_ms']:.1f} ms per image "
                  f"(batch 1, {e['threads']} threads, load {e['load_average'][0]:.2f})"
                  if "encode_ms" in e else "")
        print(f"held-out round trip at {e['height']}x{e['width']} ({e['frames']} frames, step "
              f"{e['step']}): PSNR {e['psnr']:.2f} dB (pooled), SSIM {e['ssim']:.4f}{timing}; "
              f"{args.out / 'eval.json'}, curve {args.out / 'eval.png'}")
    return 0


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
    from worldbridge.models import (
        FrameModel,
        check_pixart_setup,
        load_autoencoder,
        load_pixart_sigma_weights,
        save_checkpoint,
    )
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
