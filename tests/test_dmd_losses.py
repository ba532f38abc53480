"""DMD loss mechanics on analytic score functions (no network needed)."""

import pytest
import torch

from worldbridge.models.schedule import NoiseSchedule, ScheduleConfig
from worldbridge.training.dmd import dmd_generator_loss, fake_score_loss, regression_loss


def _gaussian_eps(s: NoiseSchedule, mean: float, sigma: float = 1.0):
    """Exact eps of data ~ N(mean, sigma^2) at every timestep."""
    def eps(x_t, t):
        abar = s.alphas_cumprod[t].float().reshape(-1, *[1] * (x_t.dim() - 1))
        a, sd = abar.sqrt(), (1 - abar).sqrt()
        var = abar * sigma ** 2 + 1 - abar
        return sd * (x_t - a * mean) / var
    return eps


def test_dmd_gradient_points_from_fake_towards_real():
    """With real data at +1 and generator samples at -1, descending the DMD loss moves the
    samples towards +1."""
    s = NoiseSchedule()
    x = torch.full((64, 4, 4, 4), -1.0, requires_grad=True)
    g = torch.Generator().manual_seed(0)
    loss, stats = dmd_generator_loss(x, _gaussian_eps(s, 1.0, 0.3), _gaussian_eps(s, -1.0, 0.3), s, g)
    loss.backward()
    assert x.grad.mean().item() < 0  # gradient descent increases x
    assert stats["dmd_grad_norm"] > 0


def test_dmd_gradient_vanishes_when_fake_equals_real():
    s = NoiseSchedule()
    x = torch.randn(16, 4, 4, 4, requires_grad=True)
    same = _gaussian_eps(s, 0.0)
    loss, _ = dmd_generator_loss(x, same, same, s, torch.Generator().manual_seed(1))
    loss.backward()
    assert x.grad.abs().max().item() == 0.0


def test_fake_score_loss_is_minimal_for_the_true_score():
    s = NoiseSchedule()
    samples = 0.5 + 0.2 * torch.randn(4096, 1)
    g = torch.Generator().manual_seed(2)
    right = fake_score_loss(_gaussian_eps(s, 0.5, 0.2), samples, s, g)
    g = torch.Generator().manual_seed(2)
    wrong = fake_score_loss(_gaussian_eps(s, -1.0, 0.2), samples, s, g)
    assert right.item() < wrong.item()


def test_regression_loss_does_not_train_the_teacher():
    a = torch.zeros(3, requires_grad=True)
    b = torch.ones(3, requires_grad=True)
    regression_loss(a, b).backward()
    assert b.grad is None and a.grad is not None
    assert regression_loss(b.detach(), b.detach()).item() == pytest.approx(0.0)


@pytest.mark.parametrize("schedule", [ScheduleConfig(), ScheduleConfig.pixart()], ids=["default", "pixart"])
def test_descending_the_dmd_loss_moves_the_generator_towards_the_real_distribution(schedule):
    """A learnable generator output starting on the fake distribution N(-1, 0.5^2); the real
    data are N(+1, 0.5^2). The exact scores of both are written as eps predictors through
    the schedule. A few optimiser steps on the DMD loss must carry the samples towards the
    real mean and away from the fake one (a flipped sign of the distribution-matching
    gradient carries them the other way and fails)."""
    s = NoiseSchedule(schedule)
    mu_real, mu_fake, sigma = 1.0, -1.0, 0.5
    g = torch.Generator().manual_seed(0)
    x = torch.nn.Parameter(mu_fake + sigma * torch.randn(32, 4, 4, 4, generator=g))
    opt = torch.optim.Adam([x], lr=0.05)
    real, fake = _gaussian_eps(s, mu_real, sigma), _gaussian_eps(s, mu_fake, sigma)
    means = [x.mean().item()]
    for _ in range(10):
        loss, _ = dmd_generator_loss(x, real, fake, s, g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        means.append(x.mean().item())
    assert all(b > a for a, b in zip(means, means[1:])), means  # every step moves towards +1
    assert abs(means[-1] - mu_real) < abs(means[0] - mu_real) - 0.3, means
    assert abs(means[-1] - mu_fake) > 0.3, means
