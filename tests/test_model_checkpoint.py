"""Frame-model checkpoints (safetensors + JSON) and PixArt-Sigma weight mapping."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from helpers import random_pose
from safetensors.torch import save_file

from worldbridge.models import (
    CheckpointError,
    FrameModel,
    FrameModelConfig,
    load_checkpoint_extra,
    load_frame_model,
    load_pixart_sigma_weights,
    save_checkpoint,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _model(seed: int = 0, **overrides) -> FrameModel:
    torch.manual_seed(seed)
    model = FrameModel(FrameModelConfig.tiny(**overrides))
    with torch.no_grad():
        for p in (model.final_layer.linear.weight, model.null_anchor, model.mask_embedder.proj.weight):
            p.normal_(std=0.2)
    return model.eval()


def _inputs(cfg: FrameModelConfig) -> dict:
    g = torch.Generator().manual_seed(3)
    rng = np.random.default_rng(3)
    shape = (2, cfg.latent_channels, cfg.latent_size, cfg.latent_size)

    def pose() -> torch.Tensor:
        return torch.tensor(np.stack([random_pose(rng) for _ in range(2)]), dtype=torch.float32)

    K = torch.tensor([[64.0, 0, 32], [0, 64, 32], [0, 0, 1]]).expand(2, 3, 3)
    return dict(x_t=torch.randn(shape, generator=g), timestep=torch.tensor([5, 950]),
                anchor=torch.randn(shape, generator=g), reference=torch.randn(shape, generator=g),
                target_w2c=pose(), target_K=K, reference_w2c=pose(), reference_K=K,
                anchor_keep=torch.tensor([True, False]),
                anchor_mask=torch.rand((2, 1) + shape[2:], generator=g))


# ----------------------------------------------------------------------------- round trip
def test_round_trip_gives_identical_outputs(tmp_path):
    model = _model()
    out_dir = save_checkpoint(model, tmp_path / "ckpt", extra={"stage": "II", "step": 12})
    assert sorted(p.name for p in out_dir.iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((out_dir / "config.json").read_text())
    assert config["_class_name"] == "FrameModel" and config["depth"] == 2
    assert FrameModelConfig.from_json((out_dir / "config.json").read_text()) == model.config
    assert load_checkpoint_extra(out_dir) == {"stage": "II", "step": 12}
    loaded = load_frame_model(out_dir)
    assert loaded.config == model.config and not loaded.training
    assert all(p.requires_grad and p.dtype == torch.float32 for p in loaded.parameters())
    inp = _inputs(model.config)
    with torch.no_grad():
        assert torch.equal(loaded(**inp), model(**inp))
    half = load_frame_model(out_dir, dtype=torch.bfloat16)
    assert all(p.dtype == torch.bfloat16 for p in half.parameters())
    assert half.pos_embed.device.type == "cpu" and torch.equal(half.pos_embed, model.pos_embed)


def test_saving_again_replaces_the_files_and_keeps_others(tmp_path):
    save_checkpoint(_model(seed=0), tmp_path)
    (tmp_path / "trainer_state.json").write_text("{}")
    second = _model(seed=1)
    save_checkpoint(second, tmp_path)
    assert (tmp_path / "trainer_state.json").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert load_checkpoint_extra(tmp_path) == {}
    torch.testing.assert_close(load_frame_model(tmp_path).null_anchor, second.null_anchor, rtol=0, atol=0)


def test_save_rejects_bad_extra_and_non_models(tmp_path):
    with pytest.raises(ValueError, match="not JSON-serialisable"):
        save_checkpoint(_model(), tmp_path, extra={"tensor": torch.zeros(1)})
    with pytest.raises(ValueError, match="needs a FrameModel"):
        save_checkpoint(torch.nn.Linear(2, 2), tmp_path)


# ----------------------------------------------------------------------------- errors
def test_missing_directory_and_files(tmp_path):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_frame_model(tmp_path / "nope")
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match="is not a directory"):
        load_frame_model(tmp_path / "file")
    save_checkpoint(_model(), tmp_path / "a")
    (tmp_path / "a" / "model.safetensors").unlink()
    with pytest.raises(CheckpointError, match="has no model.safetensors"):
        load_frame_model(tmp_path / "a")
    save_checkpoint(_model(), tmp_path / "b")
    (tmp_path / "b" / "config.json").unlink()
    with pytest.raises(CheckpointError, match="has no config.json"):
        load_frame_model(tmp_path / "b")


def test_truncated_and_corrupt_weights(tmp_path):
    save_checkpoint(_model(), tmp_path)
    weights = tmp_path / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_frame_model(tmp_path)
    weights.write_bytes(b"\x00" * 7)
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_frame_model(tmp_path)
    weights.write_bytes(b"this is not a safetensors file at all, just some text")
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_frame_model(tmp_path)


def test_bad_config_files(tmp_path):
    save_checkpoint(_model(), tmp_path)
    cfg_path = tmp_path / "config.json"
    good = json.loads(cfg_path.read_text())
    cfg_path.write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_frame_model(tmp_path)
    cfg_path.write_text(json.dumps({**good, "hidden_size": 66}))
    with pytest.raises(CheckpointError, match="not a valid frame-model config.*divisible by num_heads"):
        load_frame_model(tmp_path)
    cfg_path.write_text(json.dumps({**good, "layers": 3}))
    with pytest.raises(CheckpointError, match="unknown FrameModelConfig keys"):
        load_frame_model(tmp_path)


def test_weights_that_do_not_fit_the_config(tmp_path):
    save_checkpoint(_model(), tmp_path)
    cfg_path = tmp_path / "config.json"
    good = json.loads(cfg_path.read_text())
    cfg_path.write_text(json.dumps({**good, "depth": 3}))
    with pytest.raises(CheckpointError, match=r"missing keys: blocks\.2\.attn\.proj\.bias"):
        load_frame_model(tmp_path)
    cfg_path.write_text(json.dumps({**good, "depth": 1}))
    with pytest.raises(CheckpointError, match=r"unexpected keys: blocks\.1\."):
        load_frame_model(tmp_path)
    cfg_path.write_text(json.dumps({**good, "learn_sigma": True}))
    with pytest.raises(CheckpointError,
                       match=r"shape mismatches: final_layer\.linear\.bias: file \(16,\) vs model \(32,\)"):
        load_frame_model(tmp_path)


# ----------------------------------------------------------------------------- PixArt
def _diffusers_state(cfg: FrameModelConfig, out_channels: int = 8, depth: int | None = None,
                     caption_channels: int = 32) -> dict[str, torch.Tensor]:
    """A synthetic diffusers PixArtTransformer2DModel state dict with the right shapes."""
    g = torch.Generator().manual_seed(7)
    d, p, c = cfg.hidden_size, cfg.patch_size, cfg.latent_channels
    inner = int(d * cfg.mlp_ratio)

    def r(*s: int) -> torch.Tensor:
        return torch.randn(*s, generator=g)

    sd = {
        "pos_embed.proj.weight": r(d, c, p, p), "pos_embed.proj.bias": r(d),
        "adaln_single.emb.timestep_embedder.linear_1.weight": r(d, 256),
        "adaln_single.emb.timestep_embedder.linear_1.bias": r(d),
        "adaln_single.emb.timestep_embedder.linear_2.weight": r(d, d),
        "adaln_single.emb.timestep_embedder.linear_2.bias": r(d),
        "adaln_single.linear.weight": r(6 * d, d), "adaln_single.linear.bias": r(6 * d),
        "caption_projection.linear_1.weight": r(d, caption_channels),
        "caption_projection.linear_1.bias": r(d),
        "caption_projection.linear_2.weight": r(d, d), "caption_projection.linear_2.bias": r(d),
        "scale_shift_table": r(2, d),
        "proj_out.weight": r(p * p * out_channels, d), "proj_out.bias": r(p * p * out_channels),
    }
    for i in range(cfg.depth if depth is None else depth):
        b = f"transformer_blocks.{i}."
        sd[b + "scale_shift_table"] = r(6, d)
        for name in ("to_q", "to_k", "to_v", "to_out.0"):
            sd[b + f"attn1.{name}.weight"], sd[b + f"attn1.{name}.bias"] = r(d, d), r(d)
        for name, shape in (("to_q", (d, d)), ("to_k", (d, d)), ("to_v", (d, d)), ("to_out.0", (d, d))):
            sd[b + f"attn2.{name}.weight"], sd[b + f"attn2.{name}.bias"] = r(*shape), r(d)
        sd[b + "ff.net.0.proj.weight"], sd[b + "ff.net.0.proj.bias"] = r(inner, d), r(inner)
        sd[b + "ff.net.2.weight"], sd[b + "ff.net.2.bias"] = r(d, inner), r(d)
    return sd


def test_diffusers_pixart_keys_map_onto_the_frame_model(tmp_path):
    model = _model()
    cfg = model.config
    sd = _diffusers_state(cfg)
    (tmp_path / "transformer").mkdir()
    save_file(sd, str(tmp_path / "transformer" / "diffusion_pytorch_model.safetensors"))
    null_before = model.null_anchor.detach().clone()
    report = load_pixart_sigma_weights(model, tmp_path)
    assert report.source_format == "diffusers"
    assert report.not_initialised == ["mask_embedder.proj.bias", "mask_embedder.proj.weight",
                                      "null_anchor"] and torch.equal(model.null_anchor, null_before)
    assert len(report.loaded) == len(model.state_dict()) - 3
    assert all("attn2" in k or k.startswith("caption_projection") for k in report.skipped)
    assert len(report.skipped) == 4 + 8 * cfg.depth
    assert "loaded" in report.summary()
    state = model.state_dict()
    assert torch.equal(state["x_embedder.proj.weight"], sd["pos_embed.proj.weight"])
    assert torch.equal(state["t_embedder.mlp.2.weight"], sd["adaln_single.emb.timestep_embedder.linear_2.weight"])
    assert torch.equal(state["t_block.1.bias"], sd["adaln_single.linear.bias"])
    assert torch.equal(state["blocks.1.attn.qkv.weight"], torch.cat(
        [sd[f"transformer_blocks.1.attn1.to_{x}.weight"] for x in "qkv"]))
    assert torch.equal(state["blocks.0.attn.proj.bias"], sd["transformer_blocks.0.attn1.to_out.0.bias"])
    assert torch.equal(state["blocks.1.mlp.fc1.weight"], sd["transformer_blocks.1.ff.net.0.proj.weight"])
    assert torch.equal(state["blocks.0.scale_shift_table"], sd["transformer_blocks.0.scale_shift_table"])
    assert torch.equal(state["final_layer.scale_shift_table"], sd["scale_shift_table"])
    # Final projection rows are (patch row, patch column, channel); keep channels 0..3 (eps).
    p = cfg.patch_size
    w = sd["proj_out.weight"].view(p * p, 8, -1)[:, :4].reshape(p * p * 4, -1)
    assert torch.equal(state["final_layer.linear.weight"], w)
    assert torch.equal(state["final_layer.linear.bias"], sd["proj_out.bias"].view(p * p, 8)[:, :4].reshape(-1))


def test_original_pixart_pth_keys_and_learned_sigma(tmp_path):
    model = _model(learn_sigma=True)
    cfg = model.config
    d = cfg.hidden_size
    g = torch.Generator().manual_seed(1)

    def r(*s: int) -> torch.Tensor:
        return torch.randn(*s, generator=g)

    sd = {k: r(*v.shape) for k, v in model.state_dict().items()
          if k != "null_anchor" and not k.startswith("mask_embedder.")}  # ours, not PixArt's
    sd.update({"pos_embed": r(1, 16, d), "y_embedder.y_embedding": r(5, 32),
               "y_embedder.y_proj.fc1.weight": r(d, 32), "blocks.0.cross_attn.q_linear.weight": r(d, d)})
    torch.save({"state_dict": sd}, tmp_path / "PixArt-Sigma-XL-2-512-MS.pth")
    report = load_pixart_sigma_weights(model, tmp_path / "PixArt-Sigma-XL-2-512-MS.pth")
    assert report.source_format == "pixart" and not report.adapted
    assert set(report.skipped) == {"pos_embed", "y_embedder.y_embedding", "y_embedder.y_proj.fc1.weight",
                                   "blocks.0.cross_attn.q_linear.weight"}
    for k, v in model.state_dict().items():
        if k in sd:
            assert torch.equal(v, sd[k]), k
    report = load_pixart_sigma_weights(_model(learn_sigma=True), tmp_path)  # the directory works too
    assert report.source_format == "pixart"


def test_pixart_errors(tmp_path):
    model = _model()
    with pytest.raises(CheckpointError, match="do not exist"):
        load_pixart_sigma_weights(model, tmp_path / "missing")
    with pytest.raises(CheckpointError, match="no PixArt-Sigma weights under"):
        load_pixart_sigma_weights(model, tmp_path)
    save_file({"conv_in.weight": torch.zeros(2)}, str(tmp_path / "unet.safetensors"))
    with pytest.raises(CheckpointError, match="not a PixArt transformer state dict"):
        load_pixart_sigma_weights(model, tmp_path / "unet.safetensors")
    big = FrameModelConfig.tiny(hidden_size=128)
    save_file(_diffusers_state(big), str(tmp_path / "big.safetensors"))
    with pytest.raises(CheckpointError, match=r"do not fit the model config.*blocks\.0\.attn\.qkv\.weight"):
        load_pixart_sigma_weights(model, tmp_path / "big.safetensors")
    save_file(_diffusers_state(model.config, depth=1), str(tmp_path / "shallow.safetensors"))
    with pytest.raises(CheckpointError, match=r"lack parameters of this model: blocks\.1\."):
        load_pixart_sigma_weights(model, tmp_path / "shallow.safetensors")
    report = load_pixart_sigma_weights(model, tmp_path / "shallow.safetensors", strict=False)
    assert "blocks.1.attn.qkv.weight" in report.not_initialised
    (tmp_path / "bad.safetensors").write_bytes(b"\x01\x02")
    with pytest.raises(CheckpointError, match="cannot read"):
        load_pixart_sigma_weights(model, tmp_path / "bad.safetensors")


def test_pixart_mapping_reproduces_diffusers_pixart_exactly(tmp_path):
    """With PixArt's own weights, our blocks compute exactly what diffusers' PixArt does on the
    target image alone (cross-attention silenced), which pins the modulation order, GELU,
    final layer, position embedding and unpatchify layout."""
    diffusers = pytest.importorskip("diffusers")
    cfg = FrameModelConfig.tiny(use_prope=False)
    torch.manual_seed(0)
    pixart = diffusers.PixArtTransformer2DModel(
        num_attention_heads=cfg.num_heads, attention_head_dim=cfg.head_dim, in_channels=4,
        out_channels=8, num_layers=cfg.depth, cross_attention_dim=cfg.hidden_size,
        caption_channels=32, sample_size=cfg.latent_size, patch_size=cfg.patch_size).eval()
    with torch.no_grad():
        for block in pixart.transformer_blocks:
            block.attn2.to_out[0].weight.zero_()
            block.attn2.to_out[0].bias.zero_()
        pixart.proj_out.weight.normal_(std=0.1)
    save_file({k: v.contiguous() for k, v in pixart.state_dict().items()},
              str(tmp_path / "diffusion_pytorch_model.safetensors"))
    model = FrameModel(cfg).eval()
    load_pixart_sigma_weights(model, tmp_path)
    g = torch.Generator().manual_seed(2)
    x, t = torch.randn(2, 4, cfg.latent_size, cfg.latent_size, generator=g), torch.tensor([10.0, 700.0])
    with torch.no_grad():
        expect = pixart(x, encoder_hidden_states=torch.randn(2, 5, 32, generator=g), timestep=t,
                        added_cond_kwargs={"resolution": None, "aspect_ratio": None}).sample[:, :4]
        t_emb = model.t_embedder(t)
        t_mod = model.t_block(t_emb)
        h = model._embed([x], 0)  # the target third alone
        for block in model.blocks:
            h = model._joint_step(block, h, block.modulation(t_mod), None)
        ours = model._unpatchify(model.final_layer(h, t_emb))
    torch.testing.assert_close(ours, expect, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- generic primitives
def _primitive_checkpoint(directory, **save_kwargs):
    """A two-tensor checkpoint written by save_weights_and_config; returns (directory, state)."""
    from worldbridge.models.checkpoint import save_weights_and_config

    state = {"a.weight": torch.arange(6, dtype=torch.float32).view(2, 3), "b.bias": torch.ones(4)}
    out = save_weights_and_config(directory, state, {"kind": "toy", "width": 3}, weights_name="w.safetensors",
                                  config_name="c.json", **save_kwargs)
    return out, state


def test_primitives_round_trip_config_weights_and_extra(tmp_path):
    from worldbridge.models.checkpoint import load_weights, read_config

    out, state = _primitive_checkpoint(tmp_path / "new" / "ckpt", extra={"step": 7},
                                       weights_metadata={"format": "toy"})
    assert sorted(p.name for p in out.iterdir()) == ["c.json", "w.safetensors"]
    assert read_config(out, "c.json") == {"kind": "toy", "width": 3, "_extra": {"step": 7}}
    assert load_checkpoint_extra(out, config_name="c.json") == {"step": 7}
    loaded = load_weights(out, state, weights_name="w.safetensors", check_finite=True)
    assert loaded.keys() == state.keys() and all(torch.equal(loaded[k], state[k]) for k in state)
    from safetensors import safe_open

    with safe_open(str(out / "w.safetensors"), "pt") as f:
        assert f.metadata() == {"format": "toy"}


def test_save_weights_and_config_refuses_a_file_as_directory_and_bad_json(tmp_path):
    from worldbridge.models.checkpoint import save_weights_and_config

    (tmp_path / "plain").write_text("x")
    with pytest.raises(CheckpointError, match=r"checkpoint path '.*plain' is not a directory"):
        _primitive_checkpoint(tmp_path / "plain")
    with pytest.raises(ValueError, match=r"extra for c\.json is not JSON-serialisable"):
        _primitive_checkpoint(tmp_path / "a", extra={"nan": float("nan")})
    with pytest.raises(ValueError, match=r"config for c\.json is not JSON-serialisable"):
        save_weights_and_config(tmp_path / "b", {}, {"t": torch.zeros(1)}, weights_name="w.safetensors",
                                config_name="c.json")
    with pytest.raises(ValueError, match="extra must be a dict"):
        _primitive_checkpoint(tmp_path / "c", extra=[1])
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()  # nothing written


def test_read_config_errors_name_the_path(tmp_path):
    from worldbridge.models.checkpoint import read_config

    with pytest.raises(CheckpointError, match=r"checkpoint directory '.*nope' does not exist"):
        read_config(tmp_path / "nope", "c.json")
    (tmp_path / "file").write_text("{}")
    with pytest.raises(CheckpointError, match=r"checkpoint path '.*file' is not a directory"):
        read_config(tmp_path / "file", "c.json")
    with pytest.raises(CheckpointError, match=r"has no c\.json"):
        read_config(tmp_path, "c.json")
    (tmp_path / "c.json").write_text('{"width": 3,')
    with pytest.raises(CheckpointError, match=r"cannot read '.*c\.json': not valid JSON"):
        read_config(tmp_path, "c.json")
    (tmp_path / "c.json").write_bytes(b"\xff\xfe{}")
    with pytest.raises(CheckpointError, match=r"cannot read '.*c\.json'"):
        read_config(tmp_path, "c.json")
    (tmp_path / "c.json").write_text("[1, 2]")
    with pytest.raises(CheckpointError, match=r"'.*c\.json' must hold a JSON object, got list"):
        read_config(tmp_path, "c.json")
    (tmp_path / "c.json").write_text('{"_extra": 5}')
    with pytest.raises(CheckpointError, match=r"_extra in '.*c\.json' must be an object, got int"):
        load_checkpoint_extra(tmp_path, config_name="c.json")


def test_load_weights_truncated_and_missing_files(tmp_path):
    from worldbridge.models.checkpoint import load_weights

    out, state = _primitive_checkpoint(tmp_path)
    weights = out / "w.safetensors"
    data = weights.read_bytes()
    for damaged in (data[: len(data) - 5], data[:8], b""):
        weights.write_bytes(damaged)
        with pytest.raises(CheckpointError, match=r"'.*w\.safetensors' is not a readable safetensors file "
                                                  r"\(truncated or corrupt\?\)"):
            load_weights(out, state, weights_name="w.safetensors")
    weights.unlink()
    with pytest.raises(CheckpointError, match=r"has no w\.safetensors"):
        load_weights(out, state, weights_name="w.safetensors")
    with pytest.raises(CheckpointError, match="is not a directory"):
        load_weights(out / "c.json", state, weights_name="w.safetensors")


def test_load_weights_names_missing_extra_and_mis_shaped_keys(tmp_path):
    from worldbridge.models.checkpoint import load_weights

    out, state = _primitive_checkpoint(tmp_path)
    wrong_shape = {**state, "a.weight": torch.zeros(3, 2)}
    with pytest.raises(CheckpointError, match=r"w\.safetensors' does not match what the config needs: "
                                              r"shape mismatches: a\.weight: file \(2, 3\) vs model \(3, 2\)"):
        load_weights(out, wrong_shape, weights_name="w.safetensors")
    with pytest.raises(CheckpointError, match=r"missing keys: c\.scale"):
        load_weights(out, {**state, "c.scale": torch.zeros(1)}, weights_name="w.safetensors")
    with pytest.raises(CheckpointError, match=r"unexpected keys: b\.bias"):
        load_weights(out, {"a.weight": state["a.weight"]}, weights_name="w.safetensors")


def test_load_weights_dtype_kind_and_non_finite_values(tmp_path):
    from worldbridge.models.checkpoint import load_weights, save_weights_and_config

    out, state = _primitive_checkpoint(tmp_path)
    save_weights_and_config(out, {**state, "b.bias": torch.ones(4, dtype=torch.int64)}, {},
                            weights_name="w.safetensors", config_name="c.json")
    with pytest.raises(CheckpointError, match=r"weight 'b\.bias' is torch\.int64, the config needs a floating-point"):
        load_weights(out, state, weights_name="w.safetensors")
    bad = {**state, "a.weight": state["a.weight"].clone()}
    bad["a.weight"][1, 2] = float("inf")
    save_weights_and_config(out, bad, {}, weights_name="w.safetensors", config_name="c.json")
    assert torch.isinf(load_weights(out, state, weights_name="w.safetensors")["a.weight"]).any()  # not checked
    with pytest.raises(CheckpointError, match=r"'.*w\.safetensors': weight 'a\.weight' has non-finite values"):
        load_weights(out, state, weights_name="w.safetensors", check_finite=True)


def test_every_model_raises_the_one_checkpoint_error(tmp_path):
    from worldbridge.models.compact_autoencoder import CompactAutoencoder, CompactAutoencoderConfig

    assert issubclass(CheckpointError, ValueError)
    with pytest.raises(CheckpointError, match=r"'.*nope' does not exist"):
        CompactAutoencoder.load(tmp_path / "nope")
    d = CompactAutoencoder(CompactAutoencoderConfig.tiny()).save(tmp_path / "ae")
    (d / "autoencoder.json").write_text("{")
    with pytest.raises(CheckpointError, match=r"cannot read '.*autoencoder\.json': not valid JSON"):
        CompactAutoencoder.load(d)
    (tmp_path / "file").write_text("x")
    with pytest.raises(CheckpointError, match="is not a directory"):
        CompactAutoencoder(CompactAutoencoderConfig.tiny()).save(tmp_path / "file")
