"""Distribution Matching Distillation losses: DMD ("One-step Diffusion with Distribution Matching
Distillation", Yin et al. 2024, arXiv 2311.18828, section 3) and DMD2 ("Improved Distribution
Matching Distillation for Fast Image Synthesis", Yin et al. 2024, arXiv 2405.14867, section 4).

Three copies of the frame model take part, all predicting ``eps`` and converted to ``x0``
through the schedule:

* ``teacher`` (frozen): the real score, the Stage II model;
* ``fake``: a score model of the generator's own output distribution, trained with the
  ordinary denoising loss on generator samples (several updates per generator update);
* ``generator``: the few-step student, initialised from the teacher.

The generator's distribution-matching gradient at a noised generator sample ``x_t`` is
``x0_fake(x_t) - x0_real(x_t)``, normalised per sample by ``mean |x0_g - x0_real|``
(DMD eq. 7-8); it is applied through the surrogate ``0.5 * ||x0_g - sg(x0_g - grad)||^2``.
A regression loss on teacher-sampler pairs (noise -> teacher's deterministic sample)
anchors the generator to the teacher's modes (DMD section 3.3).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from worldbridge.models.schedule import NoiseSchedule

__all__ = ["ScoreFn", "dmd_generator_loss", "fake_score_loss", "regression_loss"]

ScoreFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``eps_fn(x_t [B, C, h, w], t [B]) -> eps`` with the batch's conditions bound in."""


def dmd_generator_loss(x0_g: torch.Tensor, real_eps: ScoreFn, fake_eps: ScoreFn,
                       schedule: NoiseSchedule, generator: torch.Generator | None = None,
                       t_range: tuple[int, int] = (20, 980)) -> tuple[torch.Tensor, dict[str, float]]:
    """Distribution-matching loss for generator samples ``x0_g [B, C, h, w]`` (with grad).

    Args:
        x0_g: generator outputs (the graph to the generator's weights is kept).
        real_eps, fake_eps: teacher and fake-score predictors (called without grad).
        schedule: the noise schedule.
        t_range: timesteps ``[lo, hi)`` at which the scores are compared (DMD uses 2%..98%).

    Returns:
        ``(loss, stats)``; the loss's gradient w.r.t. ``x0_g`` is the normalised
        ``x0_fake - x0_real`` (divided by the number of elements, as MSE is).
    """
    b = x0_g.shape[0]
    t = torch.randint(t_range[0], t_range[1], (b,), generator=generator).to(x0_g.device)
    noise = torch.randn(x0_g.shape, generator=generator).to(x0_g.device, x0_g.dtype)
    with torch.no_grad():
        x_t = schedule.add_noise(x0_g.detach(), noise, t)
        x0_real = schedule.x0_from_eps(x_t, real_eps(x_t, t).float(), t)
        x0_fake = schedule.x0_from_eps(x_t, fake_eps(x_t, t).float(), t)
        weight = (x0_g.detach() - x0_real).abs().mean(dim=tuple(range(1, x0_g.dim())), keepdim=True)
        grad = (x0_fake - x0_real) / weight.clamp_min(1e-6)
        grad = torch.nan_to_num(grad)
    loss = 0.5 * F.mse_loss(x0_g, (x0_g - grad).detach())
    return loss, {"dmd_grad_norm": float(grad.norm() / b ** 0.5), "dmd_t_mean": float(t.float().mean())}


def fake_score_loss(fake_eps: ScoreFn, x0_g: torch.Tensor, schedule: NoiseSchedule,
                    generator: torch.Generator | None = None) -> torch.Tensor:
    """Denoising loss that fits the fake score to generator samples ``x0_g`` (detached)."""
    b = x0_g.shape[0]
    t = torch.randint(0, schedule.num_train_timesteps, (b,), generator=generator).to(x0_g.device)
    noise = torch.randn(x0_g.shape, generator=generator).to(x0_g.device, x0_g.dtype)
    x_t = schedule.add_noise(x0_g.detach(), noise, t)
    return F.mse_loss(fake_eps(x_t, t).float(), noise)


def regression_loss(x0_student: torch.Tensor, x0_teacher: torch.Tensor) -> torch.Tensor:
    """L1 between the student's sample and the teacher's deterministic sample from the same
    noise and conditions (latent space; DMD uses LPIPS in pixel space, unavailable here)."""
    return F.l1_loss(x0_student, x0_teacher.detach())
