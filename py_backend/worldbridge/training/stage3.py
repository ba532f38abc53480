"""Stage III: distil the Stage II frame model into a 2-step generator with DMD.

InSpatio-WorldFM section 2.5 and DMD (Yin et al. 2024) / DMD2 (Yin et al. 2024b):

* the teacher (Stage II checkpoint) is frozen and gives the real score;
* a fake-score model, initialised from the teacher, is fitted to the generator's outputs
  with ``fake_updates_per_step`` denoising updates per generator update (DMD2's two
  time-scale rule);
* the generator, initialised from the teacher, is updated by the distribution-matching
  gradient plus ``regression_weight`` times an L1 regression to the teacher's deterministic
  DDIM sample from the same noise and conditions.

The generator samples like :class:`~worldbridge.models.samplers.DistilledSampler`: predict
``x0`` at 999, re-noise to ``t_mid`` = 200, predict again. Training follows DMD2's backward
simulation: a step index is drawn, earlier steps run without gradients, and the loss acts
on that step's ``x0``.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from worldbridge.models.samplers import DDIMSampler
from worldbridge.models.schedule import NoiseSchedule, ScheduleConfig
from worldbridge.training.distributed import all_reduce_mean, init_distributed
from worldbridge.training.dmd import dmd_generator_loss, fake_score_loss, regression_loss
from worldbridge.training.loss_log import LossLog, plot_loss_curves
from worldbridge.training.stage2 import TrainResult, autocast_for, clip_loader, frame_model_inputs

__all__ = ["Stage3Config", "distill_stage3", "bind_conditions"]


@dataclass
class Stage3Config:
    """DMD hyperparameters (saved as ``stage3.json``).

    Attributes:
        timesteps: the generator's sampling timesteps, ``[999, 200]`` (1 step: ``[999]``).
        fake_updates_per_step: fake-score updates per generator update.
        regression_weight: weight of the teacher-regression loss.
        teacher_ddim_steps: DDIM steps of the teacher for regression pairs.
        regression_every: compute regression pairs every N generator steps (they cost
            ``teacher_ddim_steps`` teacher passes).
        dmd_t_range: timesteps at which real and fake scores are compared.
    """

    steps: int = 500
    batch_clips: int = 2
    targets_per_clip: int = 4
    lr_generator: float = 2e-5
    lr_fake: float = 2e-5
    fake_updates_per_step: int = 5
    regression_weight: float = 0.25
    teacher_ddim_steps: int = 20
    regression_every: int = 1
    timesteps: list = field(default_factory=lambda: [999, 200])
    dmd_t_range: list = field(default_factory=lambda: [20, 980])
    grad_clip: float = 1.0
    clip_len: int = 16
    num_references: int = 4
    zero_depth_is_sky: bool = True
    num_workers: int = 2
    log_every: int = 10
    seed: int = 0
    mixed_precision: str = "auto"

    def __post_init__(self) -> None:
        ts = [int(t) for t in self.timesteps]
        if not ts or any(a <= b for a, b in zip(ts, ts[1:])) or ts[0] > 999 or ts[-1] < 0:
            raise ValueError(f"timesteps must be strictly decreasing in [0, 999], got {self.timesteps}")
        if self.fake_updates_per_step < 1:
            raise ValueError(f"fake_updates_per_step must be >= 1, got {self.fake_updates_per_step}")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def bind_conditions(model: torch.nn.Module, inp: dict[str, torch.Tensor], keep: torch.Tensor):
    """``eps_fn(x_t, t)`` of ``model`` with one batch's anchors, references and cameras."""
    def eps(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return model(x_t, t, inp["anchor"], inp["reference"], inp["target_w2c"], inp["target_K"],
                     inp["reference_w2c"], inp["reference_K"], anchor_keep=keep)
    return eps


def _x0(schedule: NoiseSchedule, eps_fn, x: torch.Tensor, t: int) -> torch.Tensor:
    tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
    return schedule.x0_from_eps(x, eps_fn(x, tt).float(), tt)


def distill_stage3(cfg: Stage3Config, data: list[str | Path], teacher_dir: str | Path,
                   autoencoder_dir: str | Path, out_dir: str | Path, device: str | None = None,
                   progress: bool = True) -> TrainResult:
    """Distil ``teacher_dir`` into a few-step generator saved under ``out_dir/final``.

    Raises:
        CheckpointError: bad teacher checkpoint; ValueError: bad config or no clips.
    """
    from worldbridge.models.autoencoder_io import load_autoencoder
    from worldbridge.models.checkpoint import load_frame_model, save_checkpoint

    info = init_distributed(device)
    dev = info.device
    out = Path(out_dir)
    teacher = load_frame_model(teacher_dir, device=dev).eval().requires_grad_(False)
    fake = copy.deepcopy(teacher).train().requires_grad_(True)
    gen_model = copy.deepcopy(teacher).train().requires_grad_(True)
    schedule_cfg = _teacher_schedule(teacher_dir)
    schedule = NoiseSchedule(schedule_cfg)
    ddim = DDIMSampler(schedule, cfg.teacher_ddim_steps)
    autoencoder = load_autoencoder(autoencoder_dir, device=dev)
    opt_g = torch.optim.AdamW(gen_model.parameters(), lr=cfg.lr_generator)
    opt_f = torch.optim.AdamW(fake.parameters(), lr=cfg.lr_fake)
    if info.distributed:
        from torch.nn.parallel import DistributedDataParallel

        gen_ddp, fake_ddp = DistributedDataParallel(gen_model), DistributedDataParallel(fake)
    else:
        gen_ddp, fake_ddp = gen_model, fake

    loader = clip_loader(cfg, data, teacher.config.image_size)
    log = LossLog(out / "loss.jsonl")
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "stage3.json").write_text(cfg.to_json())
    g = torch.Generator().manual_seed(cfg.seed * 104729 + info.rank)
    ts = [int(t) for t in cfg.timesteps]
    step, epoch, history = 0, 0, []
    bar = None
    if progress and info.is_main:
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps, desc="stage III (DMD)", unit="step")
    while step < cfg.steps:
        loader.set_epoch(epoch)
        for batch in loader:
            if step >= cfg.steps:
                break
            t0 = time.perf_counter()
            inp = frame_model_inputs(batch, autoencoder, dev)
            keep = inp["anchor_keep"]
            shape = inp["x0"].shape
            x_T = torch.randn(shape, generator=g).to(dev)
            with autocast_for(cfg.mixed_precision, dev):
                g_eps = bind_conditions(gen_ddp, inp, keep)
                # backward simulation: run the steps before k without gradients
                k = int(torch.randint(len(ts), (1,), generator=g))
                x = x_T
                with torch.no_grad():
                    for i in range(k):
                        x0_prev = _x0(schedule, g_eps, x, ts[i])
                        noise = torch.randn(shape, generator=g).to(dev)
                        x = schedule.add_noise(x0_prev, noise, torch.full((shape[0],), ts[i + 1], device=dev))
                x0_g = _x0(schedule, g_eps, x, ts[k])
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
                                                  tuple(cfg.dmd_t_range))
                loss = l_dmd
                l_reg = torch.zeros((), device=dev)
                if cfg.regression_weight > 0 and step % cfg.regression_every == 0:
                    with torch.no_grad():
                        target = ddim.sample(real, x_T)
                    x0_first = x0_g if k == 0 else _x0(schedule, g_eps, x_T, ts[0])
                    l_reg = regression_loss(x0_first.float(), target.float())
                    loss = loss + cfg.regression_weight * l_reg
            opt_g.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(gen_model.parameters(), cfg.grad_clip)
            opt_g.step()
            step += 1
            values = {"dmd": float(all_reduce_mean(l_dmd).item()), "fake": float(all_reduce_mean(lf).item()),
                      "regression": float(all_reduce_mean(l_reg).item())}
            history.append(values["regression"])
            if info.is_main:
                if step % cfg.log_every == 0 or step == cfg.steps:
                    log.append(step, **values, dmd_grad_norm=stats["dmd_grad_norm"])
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(dmd=f"{values['dmd']:.4f}", reg=f"{values['regression']:.4f}",
                                    s_per_step=f"{time.perf_counter() - t0:.2f}")
        epoch += 1
    final = out / "final"
    if info.is_main:
        save_checkpoint(gen_model, final, extra={"stage": "III", "step": step, "schedule": schedule_cfg.to_dict(),
                                                 "sampler_timesteps": ts})
        if log.read():
            plot_loss_curves(log, out / "loss.png", title="Stage III (DMD) losses")
    if bar is not None:
        bar.close()
    if info.distributed:
        torch.distributed.barrier()
    return TrainResult(step, history[-1] if history else float("nan"), out, final, history)


def _teacher_schedule(teacher_dir: str | Path) -> ScheduleConfig:
    """The schedule the teacher was trained with (from its checkpoint extras), or the default."""
    from worldbridge.models.checkpoint import load_checkpoint_extra

    saved = load_checkpoint_extra(teacher_dir).get("schedule")
    return ScheduleConfig(**saved) if saved else ScheduleConfig()
