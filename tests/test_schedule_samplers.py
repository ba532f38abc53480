"""The 1000-step schedule, biased timestep sampling, DDIM and the distilled 2-step sampler."""

import math

import pytest
import torch

from worldbridge.models.samplers import DDIMSampler, DistilledSampler, seeded_noise
from worldbridge.models.schedule import NoiseSchedule, ScheduleConfig


def test_schedules_match_their_definitions():
    sd = NoiseSchedule()
    b = (torch.linspace(math.sqrt(0.00085), math.sqrt(0.012), 1000, dtype=torch.float64)) ** 2
    torch.testing.assert_close(sd.alphas_cumprod, torch.cumprod(1 - b, 0))
    assert sd.alphas_cumprod[999].item() == pytest.approx(4.6e-3, rel=0.05)
    pixart = NoiseSchedule(ScheduleConfig.pixart())
    assert pixart.alphas_cumprod[999].item() == pytest.approx(4.04e-5, rel=0.02)
    assert pixart.alphas_cumprod[0].item() == pytest.approx(1 - 1e-4)


def test_noise_round_trips():
    s = NoiseSchedule()
    x0, eps = torch.randn(4, 4, 8, 8), torch.randn(4, 4, 8, 8)
    t = torch.tensor([0, 200, 500, 999])
    xt = s.add_noise(x0, eps, t)
    torch.testing.assert_close(s.x0_from_eps(xt, eps, t), x0, atol=2e-4, rtol=1e-4)
    torch.testing.assert_close(s.eps_from_x0(xt, x0, t), eps, atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match=r"\[0, 1000\)"):
        s.add_noise(x0, eps, torch.tensor([0, 1, 2, 1000]))


def test_timestep_sampling_is_biased_towards_high_noise():
    s = NoiseSchedule()
    g = torch.Generator().manual_seed(0)
    uniform = s.sample_timesteps(200_000, 0.0, g).double()
    ramp = s.sample_timesteps(200_000, 1.0, g).double()
    assert uniform.min() >= 0 and ramp.max() <= 999
    assert uniform.mean().item() == pytest.approx(499.5, abs=3)
    assert ramp.mean().item() == pytest.approx(2 / 3 * 1000, abs=3)  # E[t] for p(t) ~ t
    assert (ramp >= 800).double().mean() > (uniform >= 800).double().mean() + 0.1
    with pytest.raises(ValueError, match="high_noise_bias"):
        s.sample_timesteps(4, -1.0)


def _oracle(schedule, x_star):
    """The exact eps predictor when the data distribution is the single point x_star."""
    return lambda x_t, t: schedule.eps_from_x0(x_t, x_star.expand_as(x_t), t)


@pytest.mark.parametrize("steps", [1, 2, 10, 50])
def test_ddim_recovers_a_point_distribution(steps):
    s = NoiseSchedule()
    x_star = torch.randn(1, 4, 8, 8)
    out = DDIMSampler(s, steps).sample(_oracle(s, x_star), torch.randn(3, 4, 8, 8))
    torch.testing.assert_close(out, x_star.expand(3, -1, -1, -1), atol=1e-4, rtol=1e-4)


def test_ddim_samples_a_gaussian_with_the_right_spread():
    s = NoiseSchedule()
    sigma = 0.5  # data ~ N(0, sigma^2): the exact eps is linear in x_t

    def eps(x_t, t):
        abar = s.alphas_cumprod[t].float().reshape(-1, 1)
        return x_t * (1 - abar).sqrt() / (abar * sigma ** 2 + 1 - abar)

    out = DDIMSampler(s, 200).sample(eps, torch.randn(20_000, 1))
    assert out.std().item() == pytest.approx(sigma, rel=0.03)


def test_distilled_sampler_two_steps_at_999_and_200():
    s = NoiseSchedule()
    x_star = torch.randn(1, 4, 8, 8)
    sampler = DistilledSampler(s)
    out, steps = sampler.sample(_oracle(s, x_star), (2, 4, 8, 8), seeds=[1, 2], return_steps=True)
    assert [t for t, _, _ in steps] == [999, 200]
    torch.testing.assert_close(out, x_star.expand(2, -1, -1, -1), atol=1e-4, rtol=1e-4)
    # the second step starts from x0 re-noised to t = 200
    abar = s.alphas_cumprod[200].item()
    x200 = steps[1][1]
    resid = (x200 - math.sqrt(abar) * steps[0][2]) / math.sqrt(1 - abar)
    assert resid.std().item() == pytest.approx(1.0, rel=0.1)
    assert len(DistilledSampler(s, (999,)).timesteps) == 1


def test_seeded_noise_is_reproducible_per_row():
    a = seeded_noise((3, 4, 2, 2), [7, 8, 7])
    b = seeded_noise((1, 4, 2, 2), 7)
    torch.testing.assert_close(a[0], a[2])
    torch.testing.assert_close(a[0], b[0])
    assert not torch.equal(a[0], a[1])


def test_same_seed_same_frame_different_seed_different_frame():
    s = NoiseSchedule()
    sampler = DistilledSampler(s)

    def shrink(x, t):  # a model that is not an oracle: output depends on the noise
        return 0.5 * x

    a = sampler.sample(shrink, (1, 4, 8, 8), 123)
    b = sampler.sample(shrink, (1, 4, 8, 8), 123)
    c = sampler.sample(shrink, (1, 4, 8, 8), 124)
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("bad", [(), (200, 999), (999, 999), (1000,), (-1,)])
def test_distilled_sampler_rejects_bad_timesteps(bad):
    with pytest.raises(ValueError, match="strictly decreasing"):
        DistilledSampler(NoiseSchedule(), bad)
