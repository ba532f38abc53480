"""The 1000-step diffusion noise schedule and its conversions ("Denoising Diffusion Probabilistic
Models", Ho et al. 2020, arXiv 2006.11239, section 2; the schedule of InSpatio-WorldFM,
arXiv 2603.11911, section 2.4).

``x_t = sqrt(abar_t) * x0 + sqrt(1 - abar_t) * eps`` with ``abar_t = prod_{s<=t} (1 - beta_s)``
for integer timesteps ``t`` in ``[0, num_train_timesteps)``. Models predict ``eps``; the
samplers (:mod:`worldbridge.models.samplers`) convert between ``eps`` and ``x0`` here.
A schedule never imports a model.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

__all__ = ["ScheduleConfig", "NoiseSchedule"]


@dataclass(frozen=True)
class ScheduleConfig:
    """Betas of a DDPM schedule.

    Attributes:
        num_train_timesteps: T (1000 in InSpatio-WorldFM, PixArt and Stable Diffusion).
        beta_start, beta_end: first and last beta.
        beta_schedule: ``"scaled_linear"`` (Stable Diffusion: betas linear in sqrt space;
            ``abar_999 ~ 4.7e-3``, well conditioned for x0 predictions at t = 999, the
            default) or ``"linear"`` (DDPM / PixArt-Sigma: 1e-4 .. 0.02).
    """

    num_train_timesteps: int = 1000
    beta_start: float = 0.00085
    beta_end: float = 0.012
    beta_schedule: str = "scaled_linear"

    def __post_init__(self) -> None:
        if self.num_train_timesteps < 2:
            raise ValueError(f"num_train_timesteps must be >= 2, got {self.num_train_timesteps}")
        if not 0 < self.beta_start < self.beta_end < 1:
            raise ValueError(f"need 0 < beta_start < beta_end < 1, got {self.beta_start}, {self.beta_end}")
        if self.beta_schedule not in ("scaled_linear", "linear"):
            raise ValueError(f"unknown beta_schedule {self.beta_schedule!r} (scaled_linear, linear)")

    @classmethod
    def pixart(cls) -> ScheduleConfig:
        """PixArt-Sigma's schedule (linear 1e-4 .. 0.02), for models initialised from it."""
        return cls(1000, 1e-4, 0.02, "linear")

    def to_dict(self) -> dict:
        return asdict(self)


class NoiseSchedule:
    """Precomputed ``abar_t`` and the forward process.

    Args:
        config: the betas; default Stable Diffusion's scaled-linear schedule.
    """

    def __init__(self, config: ScheduleConfig | None = None):
        self.config = config or ScheduleConfig()
        c = self.config
        if c.beta_schedule == "scaled_linear":
            betas = torch.linspace(math.sqrt(c.beta_start), math.sqrt(c.beta_end),
                                   c.num_train_timesteps, dtype=torch.float64) ** 2
        else:
            betas = torch.linspace(c.beta_start, c.beta_end, c.num_train_timesteps, dtype=torch.float64)
        self.betas = betas
        self.alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
        self.num_train_timesteps = c.num_train_timesteps

    def _coef(self, t: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        t = torch.as_tensor(t, device=self.alphas_cumprod.device).long().reshape(-1)
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= self.num_train_timesteps):
            raise ValueError(f"timesteps must be in [0, {self.num_train_timesteps}), got "
                             f"[{int(t.min())}, {int(t.max())}]")
        abar = self.alphas_cumprod[t].to(device=like.device, dtype=torch.float32)
        shape = (-1,) + (1,) * (like.dim() - 1)
        return abar.sqrt().reshape(shape).to(like.dtype), (1 - abar).sqrt().reshape(shape).to(like.dtype)

    def add_noise(self, x0: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``x_t`` from ``x0 [B, ...]``, ``eps [B, ...]`` and integer timesteps ``t [B]``."""
        a, s = self._coef(t, x0)
        return a * x0 + s * eps

    def x0_from_eps(self, x_t: torch.Tensor, eps: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``x0 = (x_t - sqrt(1 - abar) eps) / sqrt(abar)``."""
        a, s = self._coef(t, x_t)
        return (x_t - s * eps) / a

    def eps_from_x0(self, x_t: torch.Tensor, x0: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``eps = (x_t - sqrt(abar) x0) / sqrt(1 - abar)``."""
        a, s = self._coef(t, x_t)
        return (x_t - a * x0) / s

    def sample_timesteps(self, batch: int, high_noise_bias: float = 0.0,
                         generator: torch.Generator | None = None,
                         device: torch.device | str = "cpu") -> torch.Tensor:
        """Training timesteps ``[batch]`` int64, biased towards high noise.

        The density is ``p(t) ~ ((t + 1) / T) ** high_noise_bias``: 0 is uniform, 1 a linear
        ramp (t = 999 is 1000x as likely as t = 0), 2 quadratic. InSpatio-WorldFM section 2.4
        ("noise schedule biasing") samples high-noise timesteps more often so the model learns
        the coarse spatial layout first.

        Raises:
            ValueError: negative bias.
        """
        if high_noise_bias < 0:
            raise ValueError(f"high_noise_bias must be >= 0, got {high_noise_bias}")
        u = torch.rand(batch, generator=generator, dtype=torch.float64)
        t = torch.floor(self.num_train_timesteps * u ** (1.0 / (1.0 + high_noise_bias))).long()
        return t.clamp_(0, self.num_train_timesteps - 1).to(device)
