"""Autoencoders: the interface's conventions, the compact KL autoencoder (loss, schedule,
training, resumable runs, held-out evaluation, the CLI, scaling factor, checkpoints) and
SD-style AutoencoderKL loading from a local diffusers directory."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch

from worldbridge.models.autoencoder import Autoencoder, rgb_to_tensor, tensor_to_rgb
from worldbridge.models.compact_autoencoder import (
    CONFIG_NAME,
    WEIGHTS_NAME,
    AutoencoderCheckpointError,
    AutoencoderLossConfig,
    CompactAutoencoder,
    CompactAutoencoderConfig,
    autoencoder_loss,
    fit_scaling_factor,
    learning_rate_at,
    ssim_index,
    train_autoencoder,
)


def textures(n: int, size: int, seed: int = 0) -> torch.Tensor:
    """``[n, 3, size, size]`` smooth random textures (sums of plane waves) in [-1, 1]."""
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, size), torch.linspace(0, 1, size),
                            indexing="ij")
    out = torch.zeros(n, 3, size, size)
    for i in range(n):
        for c in range(3):
            for _ in range(2):
                fx, fy = torch.rand(2, generator=g) * 5 - 2.5
                phase = float(torch.rand(1, generator=g)) * 2 * math.pi
                out[i, c] += 0.5 * torch.sin(2 * math.pi * (fx * xx + fy * yy) + phase)
    return out.clamp(-1, 1)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def tiny() -> CompactAutoencoder:
    torch.manual_seed(0)
    return CompactAutoencoder(CompactAutoencoderConfig.tiny()).eval()


# ------------------------------------------------------------------ helpers
def test_rgb_tensor_round_trip():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (2, 16, 24, 3), dtype=np.uint8)
    x = rgb_to_tensor(rgb)
    assert x.shape == (2, 3, 16, 24) and x.dtype == torch.float32
    assert float(x.min()) >= -1 and float(x.max()) <= 1
    assert rgb_to_tensor(np.zeros((4, 4, 3), np.uint8)).eq(-1).all()
    assert rgb_to_tensor(np.full((4, 4, 3), 255, np.uint8)).eq(1).all()
    assert np.array_equal(tensor_to_rgb(x), rgb)
    assert np.array_equal(tensor_to_rgb(x[0]), rgb[0])
    assert np.array_equal(tensor_to_rgb(torch.full((1, 3, 2, 2), 7.0)), np.full((1, 2, 2, 3), 255))
    single = rgb_to_tensor(torch.from_numpy(rgb[0]))
    assert single.shape == (1, 3, 16, 24)
    with pytest.raises(ValueError, match="uint8"):
        rgb_to_tensor(rgb.astype(np.float32))
    with pytest.raises(ValueError, match="shape"):
        rgb_to_tensor(np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="3, H, W"):
        tensor_to_rgb(torch.zeros(1, 4, 2, 2))


# ------------------------------------------------------------------ compact
def test_compact_shapes_and_deterministic_encode(tiny):
    assert isinstance(tiny, Autoencoder)
    assert (tiny.downsample, tiny.latent_channels, tiny.scaling_factor) == (8, 4, 1.0)
    assert CompactAutoencoder().downsample == 8
    x = textures(2, 48)[:, :, :, :32].contiguous()  # 48 x 32 (H x W)
    z1, z2 = tiny.encode(x), tiny.encode(x.clone())
    assert z1.shape == (2, 4, 6, 4) and z1.dtype == torch.float32
    assert torch.equal(z1, z2)
    tiny.train()  # no dropout or batch statistics: still the same
    assert torch.equal(tiny.encode(x), z1)
    mean, _ = tiny.encode_moments(x)
    assert torch.equal(z1, mean.detach())  # the posterior mean, never a sample
    y = tiny.decode(z1)
    assert y.shape == (2, 3, 48, 32)
    assert not z1.requires_grad and not y.requires_grad


def test_compact_rejects_bad_input(tiny):
    with pytest.raises(ValueError, match="multiples"):
        tiny.encode(torch.zeros(1, 3, 30, 32))
    with pytest.raises(ValueError, match="floating"):
        tiny.encode(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"\[B, 3, H, W\]"):
        tiny.encode(torch.zeros(3, 32, 32))
    with pytest.raises(ValueError, match=r"\[B, 4, H, W\]"):
        tiny.decode(torch.zeros(1, 3, 4, 4))


def test_config_json_round_trip_and_validation():
    cfg = CompactAutoencoderConfig(block_channels=[16, 32, 32, 32], norm_groups=4,
                                   scaling_factor=0.5)
    assert cfg.block_channels == (16, 32, 32, 32)
    assert CompactAutoencoderConfig.from_json(cfg.to_json()) == cfg
    assert CompactAutoencoderConfig.tiny().downsample == 8
    assert CompactAutoencoderConfig(block_channels=(8, 8)).downsample == 2
    bad = [{"norm_groups": 3}, {"block_channels": ()}, {"latent_channels": 0},
           {"scaling_factor": 0.0}, {"scaling_factor": float("nan")}, {"mid_blocks": -1},
           {"layers_per_block": True}]
    for kw in bad:
        with pytest.raises(ValueError):
            CompactAutoencoderConfig(**kw)
    with pytest.raises(ValueError, match="unknown config fields"):
        CompactAutoencoderConfig.from_dict({"latent_channels": 4, "attention": True})
    with pytest.raises(ValueError, match="JSON"):
        CompactAutoencoderConfig.from_json("{")


def test_patch_size_rearranges_pixels_into_channels(tmp_path):
    cfg = CompactAutoencoderConfig(latent_channels=8, block_channels=(8, 16), norm_groups=4,
                                   patch_size=2)
    assert cfg.downsample == 4 and CompactAutoencoderConfig.from_json(cfg.to_json()) == cfg
    torch.manual_seed(0)
    ae = CompactAutoencoder(cfg).eval()
    assert ae.encoder.conv_in.in_channels == 12 and ae.decoder.conv_out.out_channels == 12
    x = textures(2, 16, seed=9)[:, :, :, :12].contiguous()  # 16 x 12
    z = ae.encode(x)
    assert z.shape == (2, 8, 4, 3) and ae.decode(z).shape == (2, 3, 16, 12)
    with pytest.raises(ValueError, match="multiples"):
        ae.encode(x[:, :, :, :10])
    # the decoder's head sets each pixel of a 2 x 2 patch from its own output channels
    out = ae.decoder.conv_out
    with torch.no_grad():
        out.weight.zero_()
        out.bias.copy_(torch.arange(12, dtype=torch.float32))
    y = ae.decode(z)
    assert torch.equal(y[0, :, :2, :2], torch.arange(12.0).view(3, 2, 2))
    with pytest.raises(ValueError, match="patch_size"):
        CompactAutoencoderConfig(patch_size=0)
    # checkpoints written before the field existed load as patch 1
    d = CompactAutoencoder(CompactAutoencoderConfig.tiny()).save(tmp_path / "old")
    meta = json.loads((d / CONFIG_NAME).read_text())
    del meta["config"]["patch_size"]
    (d / CONFIG_NAME).write_text(json.dumps(meta))
    assert CompactAutoencoder.load(d).config.patch_size == 1


def test_patch_size_exports_to_onnx(tmp_path):
    """pixel_unshuffle / pixel_shuffle trace to ONNX (SpaceToDepth / DepthToSpace) and match."""
    ort = pytest.importorskip("onnxruntime")
    from worldbridge.models.onnx_export import DecoderGraph, EncoderGraph, _export_graph

    torch.manual_seed(0)
    ae = CompactAutoencoder(CompactAutoencoderConfig(latent_channels=8, block_channels=(8, 16),
                                                     norm_groups=4, patch_size=2)).eval()
    x = textures(1, 32, seed=10)
    z = ae.encode(x)
    _export_graph(EncoderGraph(ae), (x,), tmp_path / "e.onnx", ["images"], ["latents"], 17)
    _export_graph(DecoderGraph(ae), (z,), tmp_path / "d.onnx", ["latents"], ["images"], 17)
    ze = ort.InferenceSession(str(tmp_path / "e.onnx")).run(None, {"images": x.numpy()})[0]
    y = ort.InferenceSession(str(tmp_path / "d.onnx")).run(None, {"latents": z.numpy()})[0]
    assert np.abs(ze - z.numpy()).max() < 1e-4
    assert np.abs(y - ae.decode(z).numpy()).max() < 1e-4


def test_training_reduces_reconstruction_loss_and_fits_scaling(tiny):
    x = textures(8, 32)

    def l1() -> float:
        return float((tiny.decode(tiny.encode(x)) - x).abs().mean())

    before = l1()
    losses = train_autoencoder(tiny, x, steps=50, lr=3e-3, progress=False, seed=0)
    after = l1()
    assert len(losses) == 50 and all(math.isfinite(v) for v in losses)
    assert not tiny.training
    assert after < 0.7 * before, (before, after)
    assert np.mean(losses[-5:]) < 0.7 * np.mean(losses[:5])

    sf = fit_scaling_factor(tiny, x, batch_size=3)
    assert tiny.scaling_factor == sf == tiny.config.scaling_factor > 0
    z = tiny.encode(x)
    assert float(z.std()) == pytest.approx(1.0, rel=1e-3)
    # decode divides the factor back out: reconstruction unchanged by the new factor
    assert float((tiny.decode(z) - x).abs().mean()) == pytest.approx(after, rel=1e-4)


def test_training_sources(tiny):
    x = textures(4, 16)
    batches = [x[:2], (x[2:], "label")]
    assert len(train_autoencoder(tiny, batches, steps=3, progress=False)) == 3  # restarts a list
    one_shot = iter([x[:2], x[2:]])
    with pytest.raises(ValueError, match="no batch"):
        train_autoencoder(tiny, one_shot, steps=3, progress=False)
    with pytest.raises(ValueError, match="multiples"):
        train_autoencoder(tiny, x[:, :, :12], steps=1, progress=False)
    with pytest.raises(ValueError, match="steps"):
        train_autoencoder(tiny, x, steps=0, progress=False)
    with pytest.raises(ValueError, match="lr"):
        train_autoencoder(tiny, x, steps=1, lr=-1.0, progress=False)
    with pytest.raises(ValueError, match="at least one image"):
        fit_scaling_factor(tiny, [])


def test_checkpoint_round_trip(tiny, tmp_path):
    fit_scaling_factor(tiny, textures(2, 16))
    tiny.save(tmp_path / "ae")
    assert sorted(p.name for p in (tmp_path / "ae").iterdir()) == [CONFIG_NAME, WEIGHTS_NAME]
    loaded = CompactAutoencoder.load(tmp_path / "ae")
    assert loaded.config == tiny.config and not loaded.training
    x = textures(2, 16, seed=1)
    assert torch.equal(loaded.encode(x), tiny.encode(x))
    z = tiny.encode(x)
    assert torch.equal(loaded.decode(z), tiny.decode(z))
    half = CompactAutoencoder.load(tmp_path / "ae", dtype=torch.float64)
    assert half.dtype == torch.float64 and half.encode(x).dtype == torch.float64
    meta = json.loads((tmp_path / "ae" / CONFIG_NAME).read_text())
    assert meta["format"] == "worldbridge.compact_autoencoder" and meta["format_version"] == 1


def test_checkpoint_errors(tiny, tmp_path):
    d = tiny.save(tmp_path / "ae")
    cfg_text = (d / CONFIG_NAME).read_text()
    weights = (d / WEIGHTS_NAME).read_bytes()

    def expect(match: str) -> None:
        with pytest.raises(AutoencoderCheckpointError, match=match):
            CompactAutoencoder.load(d)
        (d / CONFIG_NAME).write_text(cfg_text)
        (d / WEIGHTS_NAME).write_bytes(weights)

    with pytest.raises(AutoencoderCheckpointError, match="does not exist"):
        CompactAutoencoder.load(tmp_path / "missing")
    assert issubclass(AutoencoderCheckpointError, ValueError)
    (d / WEIGHTS_NAME).unlink()
    expect("has no autoencoder.safetensors")
    (d / CONFIG_NAME).unlink()
    expect("has no autoencoder.json")
    (d / CONFIG_NAME).write_text("{not json")
    expect("cannot read")
    (d / CONFIG_NAME).write_text(json.dumps({"format": "something.else"}))
    expect("is not a")
    meta = json.loads(cfg_text)
    meta["config"]["norm_groups"] = 3
    (d / CONFIG_NAME).write_text(json.dumps(meta))
    expect("invalid config")
    meta = json.loads(cfg_text)
    meta["config"]["latent_channels"] = 8
    (d / CONFIG_NAME).write_text(json.dumps(meta))
    expect("the config needs")
    meta = json.loads(cfg_text)
    meta["config"]["mid_blocks"] = 2
    (d / CONFIG_NAME).write_text(json.dumps(meta))
    expect("missing")
    (d / WEIGHTS_NAME).write_bytes(weights[: len(weights) // 2])
    expect("corrupt")
    (d / WEIGHTS_NAME).write_bytes(b"\x00" * 64)
    expect("corrupt")
    bad = {k: v.contiguous().clone() for k, v in tiny.state_dict().items()}
    bad["encoder.conv_in.weight"][0, 0, 0, 0] = float("nan")
    from safetensors.torch import save_file

    save_file(bad, str(d / WEIGHTS_NAME))
    expect("non-finite")
    CompactAutoencoder.load(d)  # restored files load again


# ------------------------------------------------------------------ loss, schedule
def test_ssim_index_matches_the_metric_and_is_differentiable():
    from worldbridge.evaluation.metrics import ssim

    a = (textures(3, 24, seed=2) + 1) / 2
    b = (a + 0.1 * torch.randn(a.shape, generator=torch.Generator().manual_seed(0))).clamp(0, 1)
    ours = ssim_index(a.double(), b.double())
    assert ours.shape == (3,) and ours.dtype == torch.float64
    assert torch.allclose(ours, ssim(a, b), atol=1e-12)
    assert torch.allclose(ssim_index(a, b), ssim(a, b).float(), atol=1e-5)  # float32 too
    assert torch.allclose(ssim_index(a, a), torch.ones(3), atol=1e-6)
    r = b.clone().requires_grad_(True)
    (1 - ssim_index(r, a).mean()).backward()
    assert r.grad is not None and float(r.grad.abs().sum()) > 0
    with pytest.raises(ValueError, match="at least 11 x 11"):
        ssim_index(a[..., :10, :10], b[..., :10, :10])
    with pytest.raises(ValueError, match="same shape"):
        ssim_index(a, b[:2])
    with pytest.raises(ValueError, match="floating"):
        ssim_index(a.to(torch.uint8), b)


def test_loss_config_and_ssim_term():
    x = textures(2, 16, seed=3)
    recon = (x + 0.2 * torch.sin(7 * x)).clamp(-1, 1)
    mean, logvar = torch.zeros(2, 4, 2, 2), torch.zeros(2, 4, 2, 2)
    base, parts = autoencoder_loss(recon, x, mean, logvar)
    assert "ssim" not in parts
    with_ssim, parts2 = autoencoder_loss(recon, x, mean, logvar, ssim_weight=0.5)
    dssim = 1 - float(ssim_index((recon + 1) / 2, (x + 1) / 2).mean())
    assert parts2["ssim"] == pytest.approx(dssim, rel=1e-6) and dssim > 0.01
    assert float(with_ssim) == pytest.approx(float(base) + 0.5 * dssim, rel=1e-6)
    no_l1, _ = autoencoder_loss(recon, x, mean, logvar, l1_weight=0.0)
    assert float(no_l1) == pytest.approx(float(base) - parts["l1"], rel=1e-6)

    cfg = AutoencoderLossConfig(ssim_weight=0.25)
    assert AutoencoderLossConfig.from_dict(cfg.to_dict()) == cfg
    for bad in ({"ssim_weight": -1.0}, {"kl_weight": float("nan")}, {"l1_weight": "1"}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            AutoencoderLossConfig(**bad)
    with pytest.raises(ValueError, match="unknown loss config fields"):
        AutoencoderLossConfig.from_dict({"lpips_weight": 1.0})


def test_ssim_term_lowers_with_training(tiny):
    x = textures(8, 32, seed=4)

    def dssim() -> float:
        return 1 - float(ssim_index((tiny.decode(tiny.encode(x)) + 1) / 2, (x + 1) / 2).mean())

    before = dssim()
    losses = train_autoencoder(tiny, x, steps=40, lr=3e-3, progress=False, seed=0,
                               loss=AutoencoderLossConfig(ssim_weight=1.0), warmup_steps=5,
                               lr_schedule="cosine", min_lr=3e-4)
    assert len(losses) == 40 and all(math.isfinite(v) for v in losses)
    assert dssim() < 0.7 * before, (before, dssim())
    with pytest.raises(ValueError, match="not both"):
        train_autoencoder(tiny, x, steps=1, progress=False, kl_weight=1e-3,
                          loss=AutoencoderLossConfig())
    with pytest.raises(ValueError, match="schedule"):
        train_autoencoder(tiny, x, steps=1, progress=False, lr_schedule="linear")


def test_learning_rate_schedule():
    lr = [learning_rate_at(s, 10, 1.0, warmup_steps=2, schedule="cosine", min_lr=0.1)
          for s in range(12)]
    assert lr[:3] == [0.5, 1.0, 1.0]  # warm-up (step + 1) / 2, then the cosine's peak
    assert lr[9] == pytest.approx(0.1) and lr[11] == pytest.approx(0.1)  # last step: min_lr
    mid = 2 + 7 / 2  # halfway from step 2 to step 9
    assert learning_rate_at(5, 10, 1.0, 2, "cosine", 0.1) == pytest.approx(
        0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (5 - 2) / 7)))
    assert 0.1 < lr[int(mid)] < 1.0 and all(a >= b for a, b in itertools.pairwise(lr[1:]))
    assert [learning_rate_at(s, 5, 2.0) for s in range(5)] == [2.0] * 5
    for kwargs, match in (({"step": -1}, "step"), ({"schedule": "linear"}, "schedule"),
                          ({"min_lr": 2.0}, "min_lr"), ({"warmup_steps": -1}, "warmup")):
        args = {"step": 0, "steps": 10, "lr": 1.0, **kwargs}
        with pytest.raises(ValueError, match=match):
            learning_rate_at(**args)


# ------------------------------------------------------------------ long runs
def _uint8_frames(n: int, size: int, seed: int) -> np.ndarray:
    """``[n, size, size, 3]`` uint8 frames of :func:`textures`."""
    return tensor_to_rgb(textures(n, size, seed=seed))


def _run_config(**kw):
    from worldbridge.training.autoencoder import AutoencoderTrainConfig

    base = {"steps": 6, "batch_size": 3, "crop_size": 16, "hflip": True, "lr": 3e-3,
            "min_lr": 1e-4, "warmup_steps": 2, "lr_schedule": "cosine", "checkpoint_every": 3,
            "log_every": 1, "eval_every": 3, "eval_timing_repeats": 2, "seed": 5,
            "loss": AutoencoderLossConfig(ssim_weight=0.5)}
    return AutoencoderTrainConfig(**{**base, **kw})


def test_run_resumes_exactly_where_it_stopped(tmp_path, monkeypatch):
    """A run killed after its step-3 checkpoint and rerun ends with the weights, scaling
    factor and loss log of an uninterrupted run (same seed, CPU, same thread count)."""
    import worldbridge.training.autoencoder as run_mod
    from worldbridge.training.autoencoder import train_autoencoder_run

    frames, held = _uint8_frames(10, 32, seed=6), _uint8_frames(3, 32, seed=7)
    cfg = CompactAutoencoderConfig.tiny()
    whole = train_autoencoder_run(cfg, frames, tmp_path / "whole", _run_config(), heldout=held,
                                  device="cpu", progress=False)
    assert (whole.steps, whole.resumed_from) == (6, 0)

    real_step, calls = run_mod.train_step, []

    def dies_at_step_5(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt("killed")
        return real_step(*args, **kwargs)

    monkeypatch.setattr(run_mod, "train_step", dies_at_step_5)
    with pytest.raises(KeyboardInterrupt):
        train_autoencoder_run(cfg, frames, tmp_path / "cut", _run_config(), heldout=held,
                              device="cpu", progress=False)
    assert (tmp_path / "cut" / "latest.txt").read_text() == "checkpoints/step_0000003"
    monkeypatch.setattr(run_mod, "train_step", real_step)
    resumed = train_autoencoder_run(cfg, frames, tmp_path / "cut", _run_config(), heldout=held,
                                    device="cpu", progress=False)
    assert (resumed.steps, resumed.resumed_from) == (6, 3)

    a = CompactAutoencoder.load(tmp_path / "whole")
    b = CompactAutoencoder.load(tmp_path / "cut")
    assert a.config == b.config and a.scaling_factor != 1.0
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(va, vb), k
    ref = CompactAutoencoder(cfg).state_dict()  # and training did change them
    assert not torch.equal(a.state_dict()["decoder.conv_out.weight"], ref["decoder.conv_out.weight"])

    def rows(run: str, name: str) -> list[dict]:
        return [json.loads(line) for line in (tmp_path / run / name).read_text().splitlines()]

    strip = ("s_per_step",)
    loss_a = [{k: v for k, v in r.items() if k not in strip} for r in rows("whole", "loss.jsonl")]
    loss_b = [{k: v for k, v in r.items() if k not in strip} for r in rows("cut", "loss.jsonl")]
    assert [r["step"] for r in loss_b] == list(range(1, 7)) and loss_a == loss_b
    assert "ssim" in loss_a[0] and loss_a[0]["lr"] == pytest.approx(1.5e-3)
    assert [r["step"] for r in rows("cut", "eval.jsonl")] == [3, 6]
    assert rows("whole", "eval.jsonl") == rows("cut", "eval.jsonl")
    report = json.loads((tmp_path / "cut" / "eval.json").read_text())
    assert report["step"] == 6 and report["resumed_from"] == 3 and report["frames"] == 3
    assert report["encode_ms"] > 0 and report["decode_ms"] > 0 and report["threads"] >= 1
    for name in ("loss.png", "eval.png", "autoencoder_train.json"):
        assert (tmp_path / "cut" / name).is_file()
    # only the newest keep_checkpoints (2) step checkpoints are kept
    assert sorted(p.name for p in (tmp_path / "cut" / "checkpoints").iterdir()) == [
        "step_0000003", "step_0000006"]

    # a finished run rerun does no step (and replaces its final evaluation, not appends one);
    # a longer one continues from the end
    again = train_autoencoder_run(cfg, frames, tmp_path / "cut", _run_config(), heldout=held,
                                  device="cpu", progress=False)
    assert (again.steps, again.resumed_from) == (6, 6) and math.isnan(again.final_loss)
    assert again.eval["psnr"] == pytest.approx(report["psnr"])
    assert [r["step"] for r in rows("cut", "eval.jsonl")] == [3, 6]
    longer = train_autoencoder_run(cfg, frames, tmp_path / "cut", _run_config(steps=8),
                                   device="cpu", progress=False)
    assert (longer.steps, longer.resumed_from) == (8, 6)


def test_run_refuses_to_resume_something_else(tmp_path):
    from worldbridge.training.autoencoder import AutoencoderTrainConfig, train_autoencoder_run

    frames = _uint8_frames(6, 16, seed=8)
    cfg = CompactAutoencoderConfig.tiny()
    small = {"steps": 2, "batch_size": 2, "checkpoint_every": 1, "log_every": 1}
    train_autoencoder_run(cfg, frames, tmp_path, AutoencoderTrainConfig(**small), device="cpu",
                          progress=False)
    with pytest.raises(ValueError, match="batch_size: 2 -> 3"):
        train_autoencoder_run(cfg, frames, tmp_path, AutoencoderTrainConfig(**{**small, "batch_size": 3}),
                              device="cpu", progress=False)
    with pytest.raises(ValueError, match="other frames"):
        train_autoencoder_run(cfg, frames[:5], tmp_path, AutoencoderTrainConfig(**small),
                              device="cpu", progress=False)
    with pytest.raises(ValueError, match="holds an autoencoder"):
        train_autoencoder_run(CompactAutoencoderConfig(latent_channels=8, block_channels=(8, 16, 16, 16),
                                                       norm_groups=4),
                              frames, tmp_path, AutoencoderTrainConfig(**small), device="cpu",
                              progress=False)
    with pytest.raises(ValueError, match="crop_size"):
        train_autoencoder_run(cfg, frames, tmp_path / "new", AutoencoderTrainConfig(crop_size=12),
                              device="cpu", progress=False)
    for bad, match in (({"steps": 0}, "steps"), ({"lr_schedule": "step"}, "lr_schedule"),
                       ({"min_lr": 1.0}, "min_lr"), ({"loss": {"ssim": 1.0}}, "unknown loss")):
        with pytest.raises(ValueError, match=match):
            AutoencoderTrainConfig(**bad)


# ------------------------------------------------------------------ evaluation
class _OffsetAutoencoder(Autoencoder):
    """An f = 1 'autoencoder' whose decode adds a known offset to each image (for tests)."""

    def __init__(self, offsets: torch.Tensor) -> None:
        self.offsets = offsets  # [N, 3, H, W] in [-1, 1] units
        self.seen = 0

    latent_channels = property(lambda self: 3)
    downsample = property(lambda self: 1)
    scaling_factor = property(lambda self: 1.0)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        return images.clone()

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        n = latents.shape[0]
        if self.seen >= self.offsets.shape[0]:  # timing calls after the quality pass
            return latents
        out = latents + self.offsets[self.seen:self.seen + n]
        self.seen += n
        return out


def test_evaluate_autoencoder_pools_psnr_over_all_frames():
    from worldbridge.evaluation import evaluate_autoencoder
    from worldbridge.evaluation.metrics import ssim

    rng = np.random.default_rng(0)
    frames = rng.integers(20, 200, (3, 16, 24, 3), dtype=np.uint8)
    delta = np.zeros(frames.shape, np.int64)  # reconstruction - truth, 8-bit levels
    delta[1] = 10  # frame 0 exact; frame 1 off by 10 levels everywhere
    delta[2, :8] = -3  # frame 2 off by 3 levels in its top half
    offsets = torch.from_numpy(delta).permute(0, 3, 1, 2).double() / 127.5
    ae = _OffsetAutoencoder(offsets.float())
    report = evaluate_autoencoder(ae, frames, batch_size=2, timing_repeats=3)

    sse = float(((delta.astype(np.float64) / 255.0) ** 2).sum())
    expected = 10 * math.log10(frames.size / sse)
    assert report["psnr"] == pytest.approx(expected, abs=1e-9)
    # not the mean of per-frame PSNRs (frame 0 alone would make that infinite)
    assert report["psnr_frame_median"] == pytest.approx(
        10 * math.log10(frames[0].size / float(((delta[2] / 255.0) ** 2).sum())), abs=1e-9)
    assert report["psnr_frame_min"] == pytest.approx(20 * math.log10(255 / 10), abs=1e-9)
    truth = torch.from_numpy(frames).permute(0, 3, 1, 2).double() / 255
    recon = torch.from_numpy(frames + delta).permute(0, 3, 1, 2).double() / 255
    assert report["ssim"] == pytest.approx(float(ssim(recon, truth).mean()), abs=1e-12)
    assert (report["frames"], report["height"], report["width"]) == (3, 16, 24)
    assert report["latent_shape"] == [3, 16, 24] and report["quantized"] is True
    assert report["encode_ms"] > 0 and report["decode_ms"] > 0 and len(report["load_average"]) == 3
    json.dumps(report)  # JSON-able

    # float input in [-1, 1] gives the same numbers up to its float32 rounding of k / 127.5 - 1;
    # timing can be switched off
    again = evaluate_autoencoder(_OffsetAutoencoder(offsets.float()),
                                 rgb_to_tensor(frames), timing_repeats=0)
    assert again["psnr"] == pytest.approx(report["psnr"], abs=1e-4) and "encode_ms" not in again
    with pytest.raises(ValueError, match="batch_size"):
        evaluate_autoencoder(ae, frames, batch_size=0)
    with pytest.raises(ValueError, match="uint8"):
        evaluate_autoencoder(ae, frames.astype(np.float32))
    with pytest.raises(ValueError, match="multiples"):
        evaluate_autoencoder(CompactAutoencoder(CompactAutoencoderConfig.tiny()), frames[:, :, :20])
    with pytest.raises(ValueError, match="no held-out"):
        evaluate_autoencoder(ae, frames[:0])


def test_train_autoencoder_cli(tmp_path, capsys):
    import sys

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
    from helpers import record_synthetic_scene

    from worldbridge.cli import main

    train = record_synthetic_scene(tmp_path / "rec", "train", frames=6, size=32, seed=0)
    held = record_synthetic_scene(tmp_path / "rec", "held", frames=3, size=32, seed=1)
    out = tmp_path / "ae"
    argv = ["train-autoencoder", "--data", str(train), "--heldout", str(held), "--out", str(out),
            "--config", "tiny", "--downsample", "4", "--latent-channels", "8", "--image-size", "32",
            "--steps", "4", "--batch", "2", "--crop", "16", "--hflip", "--ssim-weight", "0.5",
            "--checkpoint-every", "2", "--eval-every", "2", "--log-every", "1", "--threads", "1",
            "--device", "cpu", "--no-progress"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "f=4 C=8 [8, 16, 16] patch 1" in printed and "PSNR" in printed and "eval.json" in printed
    ae = CompactAutoencoder.load(out)
    assert (ae.downsample, ae.latent_channels, ae.config.block_channels) == (4, 8, (8, 16, 16))
    report = json.loads((out / "eval.json").read_text())
    assert report["step"] == 4 and report["frames"] == 3 and report["height"] == 32
    assert report["train"]["loss"]["ssim_weight"] == 0.5 and report["train"]["crop_size"] == 16
    assert report["train"]["lr_schedule"] == "cosine" and report["parameters"] == ae.num_parameters()
    assert [json.loads(r)["step"] for r in (out / "eval.jsonl").read_text().splitlines()] == [2, 4]
    assert len((out / "loss.jsonl").read_text().splitlines()) == 4
    for name in ("loss.png", "eval.png", "latest.txt"):
        assert (out / name).is_file()

    assert main(argv[:argv.index("--steps") + 1] + ["6"] + argv[argv.index("--steps") + 2:]) == 0
    assert "resumed from step 4" in capsys.readouterr().out
    assert json.loads((out / "eval.json").read_text())["step"] == 6

    bad = ["train-autoencoder", "--data", str(train), "--out", str(tmp_path / "bad"),
           "--downsample", "4", "--block-channels", "8", "16", "16", "16"]
    assert main(bad) == 2
    assert "gives f = 8" in capsys.readouterr().err
    # the old flags alone still train the default f = 8, C = 4 autoencoder
    assert main(["train-autoencoder", "--data", str(train), "--out", str(tmp_path / "plain"),
                 "--config", "tiny", "--image-size", "32", "--steps", "2", "--batch", "2",
                 "--device", "cpu", "--no-progress"]) == 0
    plain = CompactAutoencoder.load(tmp_path / "plain")
    assert (plain.downsample, plain.latent_channels) == (8, 4)
    assert not (tmp_path / "plain" / "eval.json").exists()


# ------------------------------------------------------------------ diffusers
@pytest.fixture(scope="module")
def tiny_kl_dir(tmp_path_factory):
    diffusers = pytest.importorskip(
        "diffusers", reason="diffusers is not installed (pip install diffusers)")
    torch.manual_seed(0)
    vae = diffusers.AutoencoderKL(
        block_out_channels=(8, 16), down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, latent_channels=4, norm_num_groups=4,
        layers_per_block=1, sample_size=32, scaling_factor=0.13025)
    d = tmp_path_factory.mktemp("tiny_vae")
    vae.save_pretrained(d)
    return d, vae.eval()


def test_autoencoder_kl_loads_local_directory(tiny_kl_dir):
    from worldbridge.models.autoencoder_kl import SDXL_SCALING_FACTOR, load_autoencoder_kl

    d, vae = tiny_kl_dir
    ae = load_autoencoder_kl(d)
    assert isinstance(ae, Autoencoder)
    assert (ae.downsample, ae.latent_channels) == (2, 4)
    assert ae.scaling_factor == SDXL_SCALING_FACTOR
    x = textures(2, 16)
    z = ae.encode(x)
    assert z.shape == (2, 4, 8, 8)
    assert torch.equal(z, ae.encode(x.clone()))  # the mode, not a sample
    with torch.no_grad():
        ref = vae.encode(x).latent_dist.mode() * 0.13025
        ref_img = vae.decode(ref / 0.13025).sample
    assert torch.allclose(z, ref, atol=1e-6)
    assert torch.allclose(ae.decode(z), ref_img, atol=1e-5)
    assert ae.decode(z).shape == (2, 3, 16, 16)
    with pytest.raises(ValueError, match="multiples"):
        ae.encode(torch.zeros(1, 3, 15, 16))
    assert load_autoencoder_kl(d, scaling_factor=0.5).scaling_factor == 0.5


def test_autoencoder_kl_pipeline_directory_and_errors(tiny_kl_dir, tmp_path):
    from worldbridge.models.autoencoder_kl import load_autoencoder_kl

    d, _ = tiny_kl_dir
    pipe = tmp_path / "pipeline"
    (pipe / "vae").mkdir(parents=True)
    for p in d.iterdir():
        (pipe / "vae" / p.name).write_bytes(p.read_bytes())
    ae = load_autoencoder_kl(pipe, dtype=torch.float64)
    assert ae.dtype == torch.float64 and ae.encode(textures(1, 8)).dtype == torch.float64

    with pytest.raises(AutoencoderCheckpointError, match="does not exist"):
        load_autoencoder_kl(tmp_path / "nope")
    with pytest.raises(AutoencoderCheckpointError, match="not a directory"):
        load_autoencoder_kl(d / "config.json")
    with pytest.raises(AutoencoderCheckpointError, match="has no config.json"):
        load_autoencoder_kl(tmp_path)
    (pipe / "vae" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(AutoencoderCheckpointError, match="safetensors"):
        load_autoencoder_kl(pipe)
    cfg = json.loads((d / "config.json").read_text())
    cfg["_class_name"] = "AutoencoderTiny"
    (pipe / "vae" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(AutoencoderCheckpointError, match="AutoencoderTiny"):
        load_autoencoder_kl(pipe)
