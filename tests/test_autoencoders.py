"""Autoencoders: the interface's conventions, the compact KL autoencoder (training, scaling
factor, checkpoints) and SD-style AutoencoderKL loading from a local diffusers directory."""

from __future__ import annotations

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
    CompactAutoencoder,
    CompactAutoencoderConfig,
    fit_scaling_factor,
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
