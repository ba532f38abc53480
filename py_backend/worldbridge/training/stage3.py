"""Stage III: distil the Stage II frame model into a 2-step generator with DMD.

InSpatio-WorldFM ("InSpatio-WorldFM: An Open-Source Real-Time Generative Frame Model", arXiv
2603.11911) section 2.5, and DMD ("One-step Diffusion with Distribution Matching Distillation",
Yin et al. 2024, arXiv 2311.18828, section 3) / DMD2
("Improved Distribution Matching Distillation for Fast Image Synthesis", Yin et al. 2024,
arXiv 2405.14867, sections 4.1-4.2):

* the teacher (Stage II checkpoint) is frozen and gives the real score;
* a fake-score model, initialised from the teacher, is fitted to the generator's outputs
  with ``fake_updates_per_step`` denoising updates per generator update (DMD2's two
  time-scale rule);
* the generator, initialised from the teacher, is updated by the distribution-matching
  gradient plus ``regression_weight`` times an L1 regression to the teacher's deterministic
  DDIM sample from the same noise and conditions.

The generator samples like :class:`~worldbridge.models.samplers.DistilledSampler`: predict
``x0`` at 999, re-noise to ``t_mid`` = 200, predict again. Training follows DMD2's backward
simulation: a step index ``k`` is drawn, steps before ``k`` run without gradients, and the
losses act on step ``k``'s ``x0``.

Under ``torchrun`` (DDP) every rank must run the same number of forward and backward passes
of each DDP-wrapped model, or the collectives of different ranks pair up wrongly and the
run hangs. So, as in DMD2, ``k`` is shared by all ranks: it is drawn from a generator
seeded only by the run's seed and the step (:func:`backward_simulation_step`), never by the
rank. The gradient-free steps before ``k`` call the unwrapped generator (no DDP forward,
no collective), and each generator update makes exactly one DDP forward with gradients:
when the regression loss also needs the first step's ``x0`` (``k > 0``), the two inputs
are concatenated along the batch into that one forward (:func:`tile_batch`). The fake-score
model makes exactly ``fake_updates_per_step`` DDP forward/backward pairs per step.

Checkpoints (safetensors + JSON, no pickles) every ``checkpoint_every`` steps hold the
generator (loadable as a frame model), ``fake/`` (the fake-score model) and both
optimizers' states; a run restarted with the same output folder resumes from the latest
one (``latest.txt``), continuing the data epoch mid-way, and draws its randomness per step
from ``(seed, rank, step)``, so a resumed run matches an uninterrupted one.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path

import torch

from worldbridge.models.samplers import DDIMSampler
from worldbridge.models.schedule import NoiseSchedule, ScheduleConfig
from worldbridge.training.config import Stage3Config
from worldbridge.training.distributed import all_reduce_mean, init_distributed
from worldbridge.training.dmd import dmd_generator_loss, fake_score_loss, regression_loss
from worldbridge.training.loop import FINAL_CHECKPOINT, TrainLoop
from worldbridge.training.stage2 import (
    TrainResult,
    autocast_for,
    clip_batches,
    clip_loader,
    frame_model_inputs,
)
from worldbridge.training.trainer_state import (
    TrainerStateError,
    load_trainer_state,
    save_trainer_state,
    step_generator,
)

__all__ = ["FAKE_SUBDIR", "Stage3Config", "backward_simulation_step", "bind_conditions", "distill_stage3",
           "tile_batch"]

FAKE_SUBDIR = "fake"
"""Folder of the fake-score model (and its optimizer state) inside a Stage III checkpoint."""


def bind_conditions(model: torch.nn.Module, inp: dict[str, torch.Tensor], keep: torch.Tensor):
    """``eps_fn(x_t, t)`` of ``model`` with one batch's anchors, references and cameras."""
    def eps(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return model(x_t, t, inp["anchor"], inp["reference"], inp["target_w2c"], inp["target_K"],
                     inp["reference_w2c"], inp["reference_K"], anchor_keep=keep,
                     anchor_mask=inp.get("anchor_mask"))
    return eps


def _x0(schedule: NoiseSchedule, eps_fn, x: torch.Tensor, t: int) -> torch.Tensor:
    tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
    return schedule.x0_from_eps(x, eps_fn(x, tt).float(), tt)


def backward_simulation_step(seed: int, step: int, num_timesteps: int) -> int:
    """The generator step ``k`` in ``[0, num_timesteps)`` that DMD2's backward simulation
    trains at optimiser step ``step`` (0-based).

    Drawn from :func:`~worldbridge.training.trainer_state.step_generator` with no rank, so
    every DDP rank draws the same ``k`` (DMD2 shares the step across ranks: ranks that drew
    different ``k`` would make different numbers of forward passes and deadlock), and a
    resumed run draws the same ``k`` as an uninterrupted one.

    Raises:
        ValueError: ``num_timesteps < 1``, or a negative seed or step.
    """
    if num_timesteps < 1:
        raise ValueError(f"num_timesteps must be >= 1, got {num_timesteps}")
    g = step_generator(seed, step, rank=None)
    return int(torch.randint(num_timesteps, (1,), generator=g))


def tile_batch(values: dict[str, torch.Tensor], batch: int, times: int) -> dict[str, torch.Tensor]:
    """Repeat a batch ``times`` times along dim 0, generically over its keys.

    Args:
        values: per-sample tensors (e.g. :func:`~worldbridge.training.stage2.frame_model_inputs`'
            dict: latents ``[B, C, h, w]``, cameras ``[B, 4, 4]`` / ``[B, 3, 3]``,
            ``anchor_keep [B]``, and whatever keys it gains).
        batch: B; every tensor whose first dimension is B is tiled to ``[times * B, ...]``
            (copy ``j`` is rows ``j * B .. (j + 1) * B - 1``); anything else (non-tensors,
            0-d tensors, tensors of another leading size) is passed through unchanged.
        times: number of copies (>= 1).

    Returns:
        A new dict with the same keys.

    Raises:
        ValueError: ``times < 1``.
    """
    if times < 1:
        raise ValueError(f"times must be >= 1, got {times}")
    out = {}
    for key, v in values.items():
        if times > 1 and torch.is_tensor(v) and v.dim() >= 1 and v.shape[0] == batch:
            v = torch.cat([v] * times)
        out[key] = v
    return out


def _generator_x0s(schedule: NoiseSchedule, model: torch.nn.Module, inp: dict[str, torch.Tensor],
                   keep: torch.Tensor, xs: list[torch.Tensor], ts: list[int]) -> list[torch.Tensor]:
    """``x0`` predictions of ``model`` for several ``(x_t [B, C, h, w], t)`` pairs of one batch,
    in ONE model call (one DDP forward): the pairs are concatenated along the batch."""
    b = xs[0].shape[0]
    n = len(xs)
    x = torch.cat(xs) if n > 1 else xs[0]
    tt = torch.cat([torch.full((b,), t, dtype=torch.long, device=x.device) for t in ts])
    if n > 1:
        inp, keep = tile_batch(inp, b, n), tile_batch({"keep": keep}, b, n)["keep"]
    eps = bind_conditions(model, inp, keep)(x, tt)
    return list(schedule.x0_from_eps(x, eps.float(), tt).split(b))


def distill_stage3(cfg: Stage3Config, data: Sequence[str | Path], teacher_dir: str | Path,
                   autoencoder_dir: str | Path, out_dir: str | Path, device: str | None = None,
                   progress: bool = True, init_student_from: str | Path | None = None) -> TrainResult:
    """Distil ``teacher_dir`` into a few-step generator saved under ``out_dir/final``.

    Runs single-process or under ``torchrun`` (DDP: gloo on CPU, NCCL on CUDA); every rank
    makes the same DDP forward/backward passes each step (module docstring). Resumes from
    ``out_dir/latest.txt`` when present.

    Args:
        cfg: DMD hyperparameters.
        data: recorded dataset folders.
        teacher_dir: Stage II frame-model checkpoint (its recorded noise schedule is used).
        autoencoder_dir: the autoencoder the teacher was trained with.
        out_dir: ``stage3.json``, ``loss.jsonl``, ``loss.png``, ``checkpoints/step_N``,
            ``final`` (each: generator ``model.safetensors`` + ``config.json`` + optimizer
            state, and ``fake/`` with the fake-score model and its optimizer state).
        device: ``"cpu"`` / ``"cuda"``; default CUDA when available.
        progress: a progress bar on rank 0.
        init_student_from: start the generator from this frame-model checkpoint (a bundle's
            distilled student, when distilling again after a fine-tune) instead of a copy of the
            teacher; it must have the teacher's architecture. The fake-score model always starts
            from the teacher.

    Returns:
        :class:`~worldbridge.training.stage2.TrainResult` (on every rank; only rank 0 writes
        files); ``losses`` are this run's per-step regression losses (mean over ranks) and
        ``resumed_from`` the checkpoint step it started from.

    Raises:
        CheckpointError: bad teacher checkpoint; ValueError: bad config, no clips, or an
        ``out_dir`` whose latest checkpoint is not a Stage III checkpoint of this teacher's
        architecture; TrainerStateError: a damaged checkpoint to resume from.
    """
    from worldbridge.models.autoencoder_io import load_autoencoder
    from worldbridge.models.checkpoint import load_frame_model

    info = init_distributed(device)
    dev = info.device
    out = Path(out_dir)
    teacher = load_frame_model(teacher_dir, device=dev).eval().requires_grad_(False)
    fake = copy.deepcopy(teacher).train().requires_grad_(True)
    gen_model = copy.deepcopy(teacher).train().requires_grad_(True)
    if init_student_from is not None:
        student = load_frame_model(init_student_from, device=dev)
        if student.config != teacher.config:
            raise ValueError(f"student {str(init_student_from)!r} has another architecture than teacher "
                             f"{str(teacher_dir)!r}: {student.config} vs {teacher.config}")
        gen_model.load_state_dict(student.state_dict())
        del student
    schedule_cfg = _teacher_schedule(teacher_dir)
    schedule = NoiseSchedule(schedule_cfg)
    ddim = DDIMSampler(schedule, cfg.teacher_ddim_steps)
    autoencoder = load_autoencoder(autoencoder_dir, device=dev)
    opt_g = torch.optim.AdamW(gen_model.parameters(), lr=cfg.lr_generator)
    opt_f = torch.optim.AdamW(fake.parameters(), lr=cfg.lr_fake)
    loop = TrainLoop(out, cfg.steps, log_every=cfg.log_every, checkpoint_every=cfg.checkpoint_every,
                     desc="stage III (DMD)", postfix=("dmd", "regression"), log_step_time=False,
                     curve_title="Stage III (DMD) losses", curve_exclude=("lr", "anchor_keep", "sim_step"),
                     dist=info, progress=progress)
    start = loop.resume(lambda latest: _resume(out, latest, gen_model, fake, opt_g, opt_f, dev))
    if info.distributed:
        from torch.nn.parallel import DistributedDataParallel

        gen_ddp, fake_ddp = DistributedDataParallel(gen_model), DistributedDataParallel(fake)
    else:
        gen_ddp, fake_ddp = gen_model, fake  # type: ignore[assignment]  # the plain modules serve alike

    batches = clip_batches(clip_loader(cfg, data, teacher.config.image_size), start, resume_mid_epoch=True)
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "stage3.json").write_text(cfg.to_json())
    ts = [int(t) for t in cfg.timesteps]

    def step_fn(step: int) -> dict[str, float]:
        g = step_generator(cfg.seed, step, info.rank)  # noise and timesteps: per rank
        k = backward_simulation_step(cfg.seed, step, len(ts))  # shared by every rank
        regress = cfg.regression_weight > 0 and step % cfg.regression_every == 0
        inp = frame_model_inputs(next(batches), autoencoder, dev, teacher.config)
        keep = inp["anchor_keep"]
        shape = inp["x0"].shape
        x_T = torch.randn(shape, generator=g).to(dev)
        with autocast_for(cfg.mixed_precision, dev):
            # backward simulation: the steps before k, without gradients, through the
            # unwrapped generator (no DDP forward, so no collective)
            x = x_T
            with torch.no_grad():
                g_eps_nograd = bind_conditions(gen_model, inp, keep)
                for i in range(k):
                    x0_prev = _x0(schedule, g_eps_nograd, x, ts[i])
                    noise = torch.randn(shape, generator=g).to(dev)
                    x = schedule.add_noise(x0_prev, noise, torch.full((shape[0],), ts[i + 1], device=dev))
            # the one DDP forward with gradients of this step: x0 at step k, and (for the
            # regression loss, when k > 0) x0 at the first step, in one batch
            if regress and k > 0:
                x0_g, x0_first = _generator_x0s(schedule, gen_ddp, inp, keep, [x, x_T], [ts[k], ts[0]])
            else:
                (x0_g,) = _generator_x0s(schedule, gen_ddp, inp, keep, [x], [ts[k]])
                x0_first = x0_g
            # fake score: several updates on the current generator samples
            f_eps = bind_conditions(fake_ddp, inp, keep)
            for _ in range(cfg.fake_updates_per_step):
                lf = fake_score_loss(f_eps, x0_g.detach(), schedule, g)
                opt_f.zero_grad(set_to_none=True)
                lf.backward()
                torch.nn.utils.clip_grad_norm_(fake.parameters(), cfg.grad_clip)
                opt_f.step()
            real = bind_conditions(teacher, inp, keep)
            l_dmd, stats = dmd_generator_loss(x0_g, real, bind_conditions(fake, inp, keep), schedule, g,
                                              (cfg.dmd_t_range[0], cfg.dmd_t_range[1]))
            loss = l_dmd
            l_reg = torch.zeros((), device=dev)
            if regress:
                with torch.no_grad():
                    target = ddim.sample(real, x_T)
                l_reg = regression_loss(x0_first.float(), target.float())
                loss = loss + cfg.regression_weight * l_reg
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(gen_model.parameters(), cfg.grad_clip)
        opt_g.step()
        # one collective for every logged value; sim_step is the mean of the ranks' k, so
        # a log row shows an integer only if every rank trained the same generator step
        logged = torch.stack([l_dmd.detach().float(), lf.detach().float(), l_reg.detach().float(),
                              torch.tensor(stats["dmd_grad_norm"], device=dev),
                              torch.tensor(float(k), device=dev)])
        return dict(zip(("dmd", "fake", "regression", "dmd_grad_norm", "sim_step"),
                        all_reduce_mean(logged).tolist()))

    def save(path: Path, step: int) -> None:
        _save_checkpoint(path, step, gen_model, fake, opt_g, opt_f, cfg, schedule_cfg, teacher_dir)

    result = loop.run(step_fn, save)
    losses = [values["regression"] for values in result.history]
    return TrainResult(result.steps, losses[-1] if losses else float("nan"), out, out / FINAL_CHECKPOINT,
                       losses, resumed_from=start)


def _save_checkpoint(path: Path, step: int, gen_model: torch.nn.Module, fake: torch.nn.Module,
                     opt_g: torch.optim.Optimizer, opt_f: torch.optim.Optimizer, cfg: Stage3Config,
                     schedule_cfg: ScheduleConfig, teacher_dir: str | Path) -> None:
    """Write a complete Stage III checkpoint to ``path``: the generator (a frame-model
    checkpoint) and its optimizer state, and ``fake/`` with the fake-score model and its."""
    from worldbridge.models.checkpoint import save_checkpoint

    save_checkpoint(gen_model, path, extra={"stage": "III", "step": step, "schedule": schedule_cfg.to_dict(),
                                            "sampler_timesteps": [int(t) for t in cfg.timesteps],
                                            "teacher": str(teacher_dir)})
    save_trainer_state(path, opt_g, step, extra={"stage3": json.loads(cfg.to_json())})
    save_checkpoint(fake, path / FAKE_SUBDIR, extra={"stage": "III-fake-score", "step": step})
    save_trainer_state(path / FAKE_SUBDIR, opt_f, step)


def _resume(out: Path, latest: Path, gen_model: torch.nn.Module, fake: torch.nn.Module,
            opt_g: torch.optim.Optimizer, opt_f: torch.optim.Optimizer, dev: torch.device) -> int:
    """Load ``latest``, the latest checkpoint of the output folder ``out``, into the models
    and optimizers; return its step.

    Raises:
        ValueError: ``latest`` is not a Stage III checkpoint, or is for another architecture
            than the teacher's. TrainerStateError: damaged or inconsistent optimizer states.
    """
    from worldbridge.models.checkpoint import load_checkpoint_extra, load_frame_model

    stage = load_checkpoint_extra(latest).get("stage")
    if stage != "III":
        raise ValueError(f"{out} already holds a stage {stage!r} checkpoint ({latest}), not a Stage III "
                         "one to resume: give distill its own --out folder")
    steps = []
    for model, opt, path in ((gen_model, opt_g, latest), (fake, opt_f, latest / FAKE_SUBDIR)):
        saved = load_frame_model(path, device=dev)
        if saved.config != model.config:
            raise ValueError(f"checkpoint {path} is a {saved.config} model, the teacher is a {model.config}: "
                             "resume with the same teacher or use a new --out")
        model.load_state_dict(saved.state_dict())
        steps.append(load_trainer_state(path, opt)[0])
    if steps[0] != steps[1]:
        raise TrainerStateError(f"checkpoint {latest} holds the generator of step {steps[0]} but the fake "
                                f"score of step {steps[1]}")
    return steps[0]


def _teacher_schedule(teacher_dir: str | Path) -> ScheduleConfig:
    """The schedule the teacher was trained with (from its checkpoint extras), or the default."""
    from worldbridge.models.checkpoint import load_checkpoint_extra

    saved = load_checkpoint_extra(teacher_dir).get("schedule")
    return ScheduleConfig(**saved) if saved else ScheduleConfig()
