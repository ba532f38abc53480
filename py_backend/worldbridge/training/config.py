"""The settings of the training runs: Stage II, Stage III and autoencoder training.

Each run is configured by one dataclass, saved as JSON beside its checkpoints:
:class:`Stage2Config` (``stage2.json``), :class:`Stage3Config` (``stage3.json``) and
:class:`AutoencoderTrainConfig` (``autoencoder_train.json``). Stage II and Stage III share
the fields of :class:`TrainConfigBase` (run length, clips per batch, data loading, logging,
checkpoints, seed, mixed precision), validated there once; the fields every run has (steps,
seed, log and checkpoint intervals) are validated by one function for all three.

Each field's ``metadata`` describes its command-line flag for
:func:`~worldbridge.training.flags.add_config_arguments`: ``"help"``, and where they differ
from the defaults, ``"flag"`` (the flag's name; its dest follows from it), ``"type"`` and
``"choices"``. This module loads no PyTorch, so that the command line builds its parsers
without it (``worldbridge serve`` never needs it); the few checks that need the model
package import it when a config is built.
"""

import dataclasses
import itertools
import json
import math
import numbers
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from worldbridge.models.compact_autoencoder import AutoencoderLossConfig

__all__ = [
    "LR_SCHEDULES",
    "MIXED_PRECISION",
    "AutoencoderTrainConfig",
    "Stage2Config",
    "Stage3Config",
    "TrainConfigBase",
    "check_run_length",
]

LR_SCHEDULES = ("constant", "cosine")
"""Learning-rate schedules of :func:`~worldbridge.models.compact_autoencoder.learning_rate_at`
(the same tuple as ``compact_autoencoder.LR_SCHEDULES``, repeated here to keep this module
free of PyTorch; a test checks they agree)."""

MIXED_PRECISION = ("auto", "bf16", "no")
"""``"auto"`` (bf16 autocast on CUDA, float32 on CPU), ``"bf16"`` or ``"no"``."""


def _int_at_least(value: Any, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _positive_float(value: Any, name: str, allow_zero: bool = False) -> float:
    ok = (not isinstance(value, bool) and isinstance(value, numbers.Real) and math.isfinite(value)
          and (float(value) >= 0 if allow_zero else float(value) > 0))
    if not ok:
        raise ValueError(f"{name} must be a finite number {'>=' if allow_zero else '>'} 0, "
                         f"got {value!r}")
    return float(value)


def check_run_length(cfg: Any) -> None:
    """Validate the fields every training run has: ``steps`` (>= 1), ``seed`` (>= 0),
    ``log_every`` (>= 1) and ``checkpoint_every`` (>= 0; 0: only the final checkpoint).

    Raises:
        ValueError: a value that is not an integer in range, naming the field.
    """
    _int_at_least(cfg.steps, "steps", 1)
    _int_at_least(cfg.seed, "seed", 0)
    _int_at_least(cfg.log_every, "log_every", 1)
    _int_at_least(cfg.checkpoint_every, "checkpoint_every", 0)


def _check_lr_schedule(cfg: Any) -> None:
    """Validate ``lr``, ``min_lr``, ``warmup_steps`` and ``lr_schedule`` (Stage II and the
    autoencoder: AdamW with a linear warm-up, then a constant or cosine learning rate).

    Raises:
        ValueError: ``lr`` not > 0, ``min_lr`` not in ``[0, lr]``, a negative warm-up or an
            unknown schedule, naming the field.
    """
    _positive_float(cfg.lr, "lr")
    _positive_float(cfg.min_lr, "min_lr", allow_zero=True)
    _int_at_least(cfg.warmup_steps, "warmup_steps", 0)
    if cfg.lr_schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {cfg.lr_schedule!r}")
    if cfg.min_lr > cfg.lr:
        raise ValueError(f"min_lr must be <= lr = {cfg.lr!r}, got {cfg.min_lr!r}")


def _with_default(base: type, name: str, default: Any) -> Any:
    """``base``'s field ``name`` (its metadata: help, flag) with another default."""
    return field(default=default, metadata={f.name: f for f in dataclasses.fields(base)}[name].metadata)


@dataclass
class TrainConfigBase:
    """The settings Stage II and Stage III share.

    Attributes:
        steps: optimiser steps in total, resumed ones included (>= 1).
        batch_clips: clips per batch per process (>= 1); each gives ``targets_per_clip``
            (target, anchor, reference) triples.
        targets_per_clip: targets drawn from each clip (>= 1).
        grad_clip: gradient-norm clipping threshold (> 0).
        clip_len: frames per clip.
        num_references: the most reference frames per clip (flag ``--references``).
        zero_depth_is_sky: lift zero-depth reference pixels as sky (see
            :class:`~worldbridge.training.clips.ClipSpec`).
        num_workers: data loader processes (>= 0; flag ``--workers``).
        log_every: steps between loss-log rows (>= 1; the last step is always logged).
        checkpoint_every: steps between resumable checkpoints ``checkpoints/step_N`` (>= 0;
            0: only the final one).
        seed: seed of the data order and of the noise (>= 0).
        mixed_precision: one of :data:`MIXED_PRECISION`.
        clips: more :class:`~worldbridge.training.clips.ClipSpec` fields (e.g.
            ``{"reference_layout": "contiguous", "min_references": 1, "clip_len": 33,
            "max_target_distance": 16, "point_dropout": 0.3, "reference_dropout": 0.2}``
            for extrapolation clips); validated when the loader is built.

    Raises:
        ValueError: a value out of range, naming the field.
    """

    steps: int = field(default=1000, metadata={
        "help": "optimiser steps in total (a resumed run counts the steps it resumed from)"})
    batch_clips: int = field(default=2, metadata={"help": "clips per batch per process"})
    targets_per_clip: int = field(default=4, metadata={"help": "target frames drawn from each clip"})
    grad_clip: float = field(default=1.0, metadata={"help": "gradient-norm clipping threshold"})
    clip_len: int = field(default=16, metadata={"help": "frames per clip"})
    num_references: int = field(default=4, metadata={
        "flag": "--references", "help": "references per clip (the most)"})
    zero_depth_is_sky: bool = True
    num_workers: int = field(default=2, metadata={"flag": "--workers", "help": "data loader processes"})
    log_every: int = field(default=10, metadata={"help": "steps between loss log lines"})
    checkpoint_every: int = field(default=500, metadata={
        "help": "steps between resumable checkpoints (a rerun with the same --out resumes from "
                "the latest; 0: only the final one)"})
    seed: int = field(default=0, metadata={"help": "seed of the data order and the noise"})
    mixed_precision: str = field(default="auto", metadata={
        "choices": MIXED_PRECISION, "help": "bf16 autocast: auto (on CUDA), bf16 or no"})
    clips: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_run_length(self)
        for name in ("batch_clips", "targets_per_clip"):
            _int_at_least(getattr(self, name), name, 1)
        _int_at_least(self.num_workers, "num_workers", 0)
        _positive_float(self.grad_clip, "grad_clip")
        if self.mixed_precision not in MIXED_PRECISION:
            raise ValueError(f"mixed_precision must be auto, bf16 or no, got {self.mixed_precision!r}")
        if not isinstance(self.clips, dict):
            raise ValueError(f"clips must be a dict of ClipSpec fields, got {self.clips!r}")

    def to_json(self) -> str:
        """The settings as indented JSON."""
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> Self:
        """Settings from :meth:`to_json`'s output.

        Raises:
            ValueError: invalid JSON or values; TypeError: an unknown field.
        """
        return cls(**json.loads(text))


def _default_schedule() -> dict:
    from worldbridge.models.schedule import ScheduleConfig  # loads PyTorch: only when built

    return ScheduleConfig().to_dict()


@dataclass
class Stage2Config(TrainConfigBase):
    """Stage II hyperparameters (saved as ``stage2.json`` beside the checkpoints); the shared
    fields are :class:`TrainConfigBase`'s.

    Attributes:
        model: ``"tiny" | "small" | "xl"`` or a FrameModelConfig dict (ignored when
            fine-tuning: the checkpoint's config is used; flag ``--config``).
        lr, weight_decay, warmup_steps: AdamW with a linear warm-up, then ``lr_schedule``.
        lr_schedule, min_lr: ``"constant"`` (``lr`` after the warm-up) or ``"cosine"``
            (decay to ``min_lr`` at the last step); see
            :func:`~worldbridge.models.compact_autoencoder.learning_rate_at`.
        high_noise_bias: timestep density ``~ t ** bias`` (0 = uniform).
        anchor_start_step, anchor_ramp_steps, anchor_mask_prob: progressive injection and
            random anchor masking (see :func:`~worldbridge.training.stage2.anchor_keep_probability`).
        image_size: training resolution (square), pixels.
        schedule: the noise schedule (a :class:`~worldbridge.models.schedule.ScheduleConfig`
            dict), recorded in every checkpoint.
        hole_loss_weight: lambda of the hole-weighted loss: each latent pixel's squared
            error is weighted ``1 + lambda * (1 - coverage)`` (coverage of the anchor at
            that latent pixel, 0 where the anchor is dropped) and normalised per sample, so
            the model spends its capacity where it must invent; 0: plain MSE.
        ema_decay: decay of an exponential moving average of the weights (0: none), with
            the usual warm-up ``min(decay, (1 + step) / (10 + step))``; checkpoints hold it
            in ``ema/`` (distil or serve from ``<run>/final/ema``).

    Raises:
        ValueError: a value out of range, naming the field.
    """

    model: Any = field(default="tiny", metadata={
        "flag": "--config", "type": str,
        "help": "tiny, small, xl, or a JSON file with FrameModelConfig fields"})
    lr: float = field(default=1e-4, metadata={"help": "peak learning rate"})
    weight_decay: float = 0.0
    warmup_steps: int = 50
    high_noise_bias: float = field(default=1.0, metadata={
        "help": "timestep density ~ t ** bias (0: uniform)"})
    anchor_start_step: int = field(default=0, metadata={
        "help": "reference-only steps before anchors are phased in"})
    anchor_ramp_steps: int = field(default=0, metadata={
        "help": "steps over which anchors are phased in"})
    anchor_mask_prob: float = field(default=0.1, metadata={
        "help": "probability that a target's anchor is dropped once phased in"})
    image_size: int = 64
    schedule: dict = field(default_factory=_default_schedule)
    hole_loss_weight: float = field(default=0.0, metadata={
        "help": "weight the loss 1 + w * (1 - anchor coverage) per latent pixel (0: plain MSE)"})
    ema_decay: float = field(default=0.0, metadata={
        "help": "keep an EMA of the weights (e.g. 0.999) in <checkpoint>/ema (0: none)"})
    lr_schedule: str = field(default="constant", metadata={
        "choices": LR_SCHEDULES,
        "help": "learning rate after the warm-up: constant, or cosine decay to --min-lr"})
    min_lr: float = field(default=0.0, metadata={"help": "final learning rate of the cosine schedule"})

    def __post_init__(self) -> None:
        super().__post_init__()
        _check_lr_schedule(self)
        _positive_float(self.weight_decay, "weight_decay", allow_zero=True)
        if not (isinstance(self.hole_loss_weight, (int, float)) and self.hole_loss_weight >= 0):
            raise ValueError(f"hole_loss_weight must be a number >= 0, got {self.hole_loss_weight!r}")
        if not (isinstance(self.ema_decay, (int, float)) and 0 <= self.ema_decay < 1):
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay!r}")
        if not 0 <= self.anchor_mask_prob <= 1:
            raise ValueError(f"anchor_mask_prob must be in [0, 1], got {self.anchor_mask_prob}")


@dataclass
class Stage3Config(TrainConfigBase):
    """DMD hyperparameters (saved as ``stage3.json``); the shared fields are
    :class:`TrainConfigBase`'s (``clips``: distil on the clips the teacher was trained on).

    Attributes:
        lr_generator, lr_fake: AdamW learning rates of the generator and the fake-score
            model (the command line's ``--lr`` sets both).
        fake_updates_per_step: fake-score updates per generator update (>= 1).
        regression_weight: weight of the teacher-regression loss.
        teacher_ddim_steps: DDIM steps of the teacher for regression pairs (>= 1).
        regression_every: compute regression pairs every N generator steps (they cost
            ``teacher_ddim_steps`` teacher passes; >= 1).
        timesteps: the generator's sampling timesteps, strictly decreasing in [0, 999],
            ``[999, 200]`` (1 step: ``[999]``).
        dmd_t_range: ``[lo, hi)``, the timesteps at which real and fake scores are compared.

    Raises:
        ValueError: a value out of range, naming the field.
    """

    steps: int = _with_default(TrainConfigBase, "steps", 500)
    checkpoint_every: int = _with_default(TrainConfigBase, "checkpoint_every", 100)
    lr_generator: float = field(default=2e-5, metadata={
        "flag": "--lr", "help": "learning rate of the generator and the fake-score model"})
    lr_fake: float = 2e-5
    fake_updates_per_step: int = field(default=5, metadata={
        "flag": "--fake-updates", "help": "fake-score updates per generator step"})
    regression_weight: float = field(default=0.25, metadata={
        "help": "weight of the regression to the teacher's DDIM samples"})
    teacher_ddim_steps: int = field(default=20, metadata={
        "flag": "--teacher-steps", "help": "teacher DDIM steps for regression pairs"})
    regression_every: int = 1
    timesteps: list[int] = field(default_factory=lambda: [999, 200], metadata={
        "help": "the generator's sampling timesteps, decreasing"})
    dmd_t_range: list[int] = field(default_factory=lambda: [20, 980])

    def __post_init__(self) -> None:
        super().__post_init__()
        ts = [int(t) for t in self.timesteps]
        if not ts or any(a <= b for a, b in itertools.pairwise(ts)) or ts[0] > 999 or ts[-1] < 0:
            raise ValueError(f"timesteps must be strictly decreasing in [0, 999], got {self.timesteps}")
        for name in ("fake_updates_per_step", "teacher_ddim_steps", "regression_every"):
            _int_at_least(getattr(self, name), name, 1)
        for name in ("lr_generator", "lr_fake"):
            _positive_float(getattr(self, name), name)
        r = list(self.dmd_t_range)
        if len(r) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in r) \
                or not 0 <= r[0] < r[1] <= 1000:
            raise ValueError(f"dmd_t_range must be [lo, hi) with 0 <= lo < hi <= 1000, got {self.dmd_t_range}")


def _default_loss() -> "AutoencoderLossConfig":
    from worldbridge.models.compact_autoencoder import AutoencoderLossConfig  # loads PyTorch

    return AutoencoderLossConfig()


@dataclass(frozen=True)
class AutoencoderTrainConfig:
    """Settings of an autoencoder training run (saved as ``autoencoder_train.json``).

    Frozen, so not a :class:`TrainConfigBase`; its run-length fields are validated by the
    same :func:`check_run_length`.

    Attributes:
        steps: optimiser steps in total (resumed ones included).
        batch_size: images per step, drawn uniformly with replacement from the frames
            (flag ``--batch``).
        crop_size: side of a random square crop taken from each drawn frame, pixels (a
            multiple of f, at most the frame size); None trains on whole frames. The
            autoencoder is convolutional, so crops train the same weights at a fraction of
            the cost per image (GroupNorm statistics come from the crop; flag ``--crop``).
        hflip: flip each drawn image left-right with probability 1/2.
        lr: peak AdamW learning rate.
        min_lr: final learning rate of the cosine schedule.
        warmup_steps: linear warm-up steps.
        lr_schedule: one of :data:`LR_SCHEDULES` (see
            :func:`~worldbridge.models.compact_autoencoder.learning_rate_at`).
        max_grad_norm: gradient-norm clipping threshold.
        loss: the loss weights (:class:`~worldbridge.models.AutoencoderLossConfig`; a dict
            of its fields is accepted).
        seed: seed of the initial weights and of every per-step random draw.
        checkpoint_every: steps between resumable checkpoints (0: only the final one).
        keep_checkpoints: how many of the newest step checkpoints to keep (>= 1).
        log_every: steps between loss-log rows.
        eval_every: steps between held-out evaluations (0: only the final one; none
            without held-out frames).
        eval_timing_repeats: repeats of the final evaluation's encode / decode timing.

    Raises:
        ValueError: any value out of range, naming it.
    """

    steps: int = field(default=2000, metadata={"help": "optimiser steps in total"})
    batch_size: int = field(default=16, metadata={"flag": "--batch", "help": "images per step"})
    crop_size: int | None = field(default=None, metadata={
        "flag": "--crop",
        "help": "train on random square crops of this many pixels (default: whole frames)"})
    hflip: bool = field(default=False, metadata={"help": "random left-right flips"})
    lr: float = field(default=1e-3, metadata={"help": "peak learning rate"})
    min_lr: float = 0.0
    warmup_steps: int = 0
    lr_schedule: str = field(default="constant", metadata={
        "choices": LR_SCHEDULES, "help": "learning rate after the warm-up"})
    max_grad_norm: float = 1.0
    loss: "AutoencoderLossConfig" = field(default_factory=_default_loss)
    seed: int = field(default=0, metadata={"help": "seed of the initial weights and every random draw"})
    checkpoint_every: int = field(default=500, metadata={
        "help": "steps between resumable checkpoints (0: end only)"})
    keep_checkpoints: int = 2
    log_every: int = field(default=10, metadata={"help": "steps between loss log lines"})
    eval_every: int = field(default=0, metadata={
        "help": "steps between held-out evaluations (0: end only)"})
    eval_timing_repeats: int = 20

    def __post_init__(self) -> None:
        from worldbridge.models.compact_autoencoder import AutoencoderLossConfig  # loads PyTorch

        check_run_length(self)
        _int_at_least(self.batch_size, "batch_size", 1)
        if self.crop_size is not None:
            _int_at_least(self.crop_size, "crop_size", 1)
        if not isinstance(self.hflip, bool):
            raise ValueError(f"hflip must be a bool, got {self.hflip!r}")
        _check_lr_schedule(self)
        _positive_float(self.max_grad_norm, "max_grad_norm")
        if isinstance(self.loss, dict):
            object.__setattr__(self, "loss", AutoencoderLossConfig.from_dict(self.loss))
        if not isinstance(self.loss, AutoencoderLossConfig):
            raise ValueError(f"loss must be an AutoencoderLossConfig or a dict of its fields, "
                             f"got {type(self.loss).__name__}")
        _int_at_least(self.keep_checkpoints, "keep_checkpoints", 1)
        _int_at_least(self.eval_every, "eval_every", 0)
        _int_at_least(self.eval_timing_repeats, "eval_timing_repeats", 0)

    def to_dict(self) -> dict[str, Any]:
        """The settings as a JSON-compatible dict (``loss`` as a dict)."""
        d = dataclasses.asdict(self)
        d["loss"] = self.loss.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: Any) -> "AutoencoderTrainConfig":
        """Settings from :meth:`to_dict`'s output; missing fields take their defaults.

        Raises:
            ValueError: not a dict, an unknown field, or an invalid value.
        """
        from worldbridge.models.compact_autoencoder import dataclass_from_dict  # loads PyTorch

        return dataclass_from_dict(cls, d, "train config")
