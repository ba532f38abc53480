"""Samplers: multi-step DDIM for the teacher and the distilled few-step sampler.

A sampler takes a ``denoise(x_t, t) -> eps`` callable and never imports a model
(diffusers' separation of models, schedules and samplers).

* :class:`DDIMSampler`: deterministic DDIM ("Denoising Diffusion Implicit Models", Song et
  al. 2021, arXiv 2010.02502, section 4, eta = 0), for the Stage II
  teacher and for the regression pairs of DMD.
* :class:`DistilledSampler`: InSpatio-WorldFM (arXiv 2603.11911) section 2.5: predict ``x0`` at ``t = 999``,
  re-noise it to ``t_mid = 200`` with fresh noise, predict ``x0`` again; ``(999,)`` is the
  1-step sampler.

Noise comes from :func:`seeded_noise`, drawn on the CPU from a seed, so a pose-derived
seed gives the same image on every device (a still camera gives a still frame).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from worldbridge.models.schedule import NoiseSchedule

__all__ = ["Denoiser", "seeded_noise", "DDIMSampler", "DistilledSampler"]

Denoiser = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``denoise(x_t [B, C, h, w], t [B] int64) -> eps [B, C, h, w]``."""


def seeded_noise(shape: Sequence[int], seeds: Sequence[int] | int, device: torch.device | str = "cpu",
                 dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Standard normal noise ``[B, ...]``, row ``i`` drawn on the CPU from ``seeds[i]``.

    Args:
        shape: full shape, ``shape[0]`` = batch.
        seeds: one seed per row (or one int for all rows).
    """
    b = shape[0]
    seeds = [int(seeds)] * b if isinstance(seeds, int) else [int(s) for s in seeds]
    if len(seeds) != b:
        raise ValueError(f"{len(seeds)} seeds for a batch of {b}")
    rows = [torch.randn(tuple(shape[1:]), generator=torch.Generator().manual_seed(s), dtype=torch.float32)
            for s in seeds]
    return torch.stack(rows).to(device=device, dtype=dtype)


def _timesteps(t: int, batch: int, device) -> torch.Tensor:
    return torch.full((batch,), int(t), dtype=torch.long, device=device)


class DDIMSampler:
    """Deterministic DDIM from ``T - 1`` down to ``0`` in ``num_steps`` evenly spaced steps.

    Args:
        schedule: the noise schedule.
        num_steps: denoiser calls (>= 1).
        clip_x0: clamp predicted ``x0`` to ``[-clip_x0, clip_x0]`` (None: no clamp).
    """

    def __init__(self, schedule: NoiseSchedule, num_steps: int = 50, clip_x0: float | None = None):
        if num_steps < 1:
            raise ValueError(f"num_steps must be >= 1, got {num_steps}")
        self.schedule = schedule
        self.clip_x0 = clip_x0
        T = schedule.num_train_timesteps
        self.timesteps = torch.linspace(T - 1, 0, num_steps).round().long().unique_consecutive().tolist()

    @torch.no_grad()
    def sample(self, denoise: Denoiser, x_T: torch.Tensor) -> torch.Tensor:
        """Run the sampler from noise ``x_T [B, C, h, w]``; returns ``x0`` of the same shape."""
        x = x_T
        b = x.shape[0]
        ts = self.timesteps
        for i, t in enumerate(ts):
            tt = _timesteps(t, b, x.device)
            eps = denoise(x, tt)
            x0 = self.schedule.x0_from_eps(x, eps, tt)
            if self.clip_x0 is not None:
                x0 = x0.clamp(-self.clip_x0, self.clip_x0)
                eps = self.schedule.eps_from_x0(x, x0, tt)
            if i + 1 == len(ts):
                return x0
            x = self.schedule.add_noise(x0, eps, _timesteps(ts[i + 1], b, x.device))
        return x


class DistilledSampler:
    """Few-step sampler of the distilled generator (InSpatio-WorldFM 2.5, DMD).

    Step ``i`` predicts ``x0`` at ``timesteps[i]``; between steps ``x0`` is re-noised to the
    next timestep with fresh seeded noise. Default ``(999, 200)``: 2 steps with
    ``t_mid = 200``; ``(999,)`` is 1 step.

    Args:
        schedule: the noise schedule.
        timesteps: strictly decreasing, each in ``[0, T)``.
        clip_x0: clamp predicted ``x0`` (None: no clamp).

    Raises:
        ValueError: empty, out-of-range or non-decreasing timesteps.
    """

    def __init__(self, schedule: NoiseSchedule, timesteps: Sequence[int] = (999, 200),
                 clip_x0: float | None = None):
        ts = [int(t) for t in timesteps]
        T = schedule.num_train_timesteps
        if not ts or any(not 0 <= t < T for t in ts) or any(a <= b for a, b in zip(ts, ts[1:])):
            raise ValueError(f"timesteps must be strictly decreasing in [0, {T}), got {list(timesteps)}")
        self.schedule = schedule
        self.timesteps = ts
        self.clip_x0 = clip_x0

    def initial_noise(self, shape: Sequence[int], seeds: Sequence[int] | int, device="cpu") -> torch.Tensor:
        """``x_T`` for the first step, from per-row seeds."""
        return seeded_noise(shape, seeds, device)

    def step_noise(self, shape: Sequence[int], seeds: Sequence[int] | int, step: int, device="cpu") -> torch.Tensor:
        """Re-noising noise before step ``step`` (>= 1), derived from the same seeds."""
        seeds = [seeds] * shape[0] if isinstance(seeds, int) else list(seeds)
        return seeded_noise(shape, [(s * 1_000_003 + step) % (2 ** 63) for s in seeds], device)

    def sample(self, denoise: Denoiser, shape: Sequence[int], seeds: Sequence[int] | int,
               device: torch.device | str = "cpu", return_steps: bool = False):
        """Generate ``x0 [B, C, h, w]``.

        Args:
            denoise: ``eps`` predictor (the distilled generator).
            shape: ``(B, C, h, w)``.
            seeds: per-row seeds (e.g. :func:`worldbridge.generators.pose_seed`).
            return_steps: also return the list of ``(t, x_t, x0)`` per step (for DMD).
        """
        b = shape[0]
        x = self.initial_noise(shape, seeds, device)
        steps = []
        x0 = x
        for i, t in enumerate(self.timesteps):
            if i > 0:
                x = self.schedule.add_noise(x0, self.step_noise(shape, seeds, i, device).to(x0.dtype),
                                            _timesteps(t, b, device))
            tt = _timesteps(t, b, device)
            eps = denoise(x, tt)
            x0 = self.schedule.x0_from_eps(x, eps, tt)
            if self.clip_x0 is not None:
                x0 = x0.clamp(-self.clip_x0, self.clip_x0)
            steps.append((t, x, x0))
        return (x0, steps) if return_steps else x0
