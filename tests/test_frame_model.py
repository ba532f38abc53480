"""The frame model (InSpatio-WorldFM 2.4.1 on a PixArt-Sigma DiT): shapes, routing, caching."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from helpers import random_pose

from worldbridge.models import FrameModel, FrameModelConfig, ReferenceCache
from worldbridge.models.dit import sincos_pos_embed_2d

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _randomize(model: FrameModel, seed: int = 0) -> FrameModel:
    """Give the zero-initialised final projection and null anchor non-trivial values."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        params = [model.final_layer.linear.weight, model.final_layer.linear.bias, model.null_anchor]
        if model.mask_embedder is not None:
            params += [model.mask_embedder.proj.weight, model.mask_embedder.proj.bias]
        for p in params:
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    return model


def _model(seed: int = 0, **overrides) -> FrameModel:
    torch.manual_seed(seed)
    return _randomize(FrameModel(FrameModelConfig.tiny(**overrides)), seed).eval()


def _intrinsics(cfg: FrameModelConfig, batch: int) -> torch.Tensor:
    s = float(cfg.image_size)
    return torch.tensor([[s, 0, s / 2], [0, s, s / 2], [0, 0, 1]]).expand(batch, 3, 3).clone()


def _inputs(cfg: FrameModelConfig, batch: int = 2, seed: int = 0) -> dict:
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    shape = (batch, cfg.latent_channels, cfg.latent_size, cfg.latent_size)

    def pose() -> torch.Tensor:
        return torch.tensor(np.stack([random_pose(rng) for _ in range(batch)]), dtype=torch.float32)

    out = dict(x_t=torch.randn(shape, generator=g), timestep=torch.tensor([100, 900][:batch] + [500] * (batch - 2)),
               anchor=torch.randn(shape, generator=g), reference=torch.randn(shape, generator=g),
               target_w2c=pose(), target_K=_intrinsics(cfg, batch), reference_w2c=pose(),
               reference_K=_intrinsics(cfg, batch))
    if cfg.anchor_mask_channel:
        out["anchor_mask"] = torch.rand((batch, 1, cfg.latent_size, cfg.latent_size), generator=g)
    return out


def _masked_reference_forward(model: FrameModel, inp: dict, isolate_reference: bool) -> torch.Tensor:
    """Independent reference: ONE attention over all 3N tokens with a boolean mask."""
    cfg = model.config
    n = cfg.tokens_per_image
    t_emb = model.t_embedder(inp["timestep"])
    t_mod = model.t_block(t_emb)
    keep = torch.ones(inp["x_t"].shape[0], dtype=torch.bool)
    x = torch.cat([model._main_tokens(inp["x_t"], inp["anchor"], inp.get("anchor_mask"), keep),
                   model._embed([inp["reference"]], 2)], dim=1)
    tw, tk = inp["target_w2c"][:, None], inp["target_K"][:, None]
    cam = model._cameras(torch.cat([tw, tw, inp["reference_w2c"][:, None]], 1),
                         torch.cat([tk, tk, inp["reference_K"][:, None]], 1))
    mask = torch.ones(3 * n, 3 * n, dtype=torch.bool)
    if isolate_reference:
        mask[2 * n:, :2 * n] = False  # reference queries see reference keys only
    for block in model.blocks:
        mod = block.modulation(t_mod)
        q, k, v = block.attention_inputs(x, mod)
        q, k, v = cam.query(q), cam.key_value(k), cam.key_value(v)
        o = cam.output(F.scaled_dot_product_attention(q, k, v, attn_mask=mask))
        x = block.finish(x, o, mod)
    return model._unpatchify(model.final_layer(x[:, :n], t_emb))


# ----------------------------------------------------------------------------- config
def test_config_presets_sizes_and_json_round_trip():
    xl = FrameModelConfig.xl()
    assert (xl.depth, xl.hidden_size, xl.num_heads, xl.patch_size, xl.latent_channels) == (28, 1152, 16, 2, 4)
    assert xl.head_dim == 72 and 3 * xl.tokens_per_image == 3072 and xl == FrameModelConfig()
    tiny, small = FrameModelConfig.tiny(), FrameModelConfig.small()
    assert (tiny.depth, tiny.hidden_size, tiny.num_heads, tiny.latent_size, tiny.image_size) == (2, 64, 4, 8, 64)
    assert (small.depth, small.hidden_size, small.num_heads, small.latent_size,
            small.image_size) == (8, 384, 6, 32, 256)
    for cfg in (xl, tiny, small, FrameModelConfig.tiny(learn_sigma=True, use_prope=False)):
        assert FrameModelConfig.from_json(cfg.to_json()) == cfg
        assert FrameModelConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg


@pytest.mark.parametrize("overrides, message", [
    (dict(hidden_size=66), "divisible by num_heads"),
    (dict(hidden_size=48, num_heads=4), "head_dim"),  # 12: not divisible by 8 for PRoPE
    (dict(latent_size=9), "divisible by patch_size"),
    (dict(depth=0), "depth must be > 0"),
    (dict(depth=2.0), "depth must be an int"),
    (dict(use_prope=1), "use_prope must be a bool"),
    (dict(mlp_ratio=float("nan")), "mlp_ratio"),
])
def test_config_validation_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        FrameModelConfig.tiny(**overrides)


def test_config_without_prope_allows_any_head_dim_and_rejects_unknown_keys():
    assert FrameModelConfig.tiny(hidden_size=48, use_prope=False).head_dim == 12
    with pytest.raises(ValueError, match="unknown FrameModelConfig keys.*'depht'"):
        FrameModelConfig.from_dict({"depht": 3})
    with pytest.raises(ValueError, match="not valid JSON"):
        FrameModelConfig.from_json("{depth")
    assert FrameModelConfig.from_dict({"_class_name": "FrameModel", "depth": 3}).depth == 3


# ----------------------------------------------------------------------------- layout
def test_output_is_the_target_third_only():
    model = _model()
    cfg = model.config
    seen = {}
    model.final_layer.register_forward_hook(lambda m, args, out: seen.update(tokens=args[0].shape[1], out=out))
    inp = _inputs(cfg)
    with torch.no_grad():
        out = model(**inp)
    assert out.shape == inp["x_t"].shape and out.dtype == torch.float32
    assert seen["tokens"] == cfg.tokens_per_image  # one third of the 3N tokens reach the output
    assert torch.equal(out, model._unpatchify(seen["out"]))
    sigma = _model(learn_sigma=True)
    with torch.no_grad():
        assert sigma(**inp).shape == (2, 2 * cfg.latent_channels, cfg.latent_size, cfg.latent_size)


def test_position_embedding_covers_the_merged_width():
    model = _model()
    cfg = model.config
    g, n, d = cfg.grid_size, cfg.tokens_per_image, cfg.hidden_size
    pe = model.pos_embed[0]
    assert pe.shape == (3 * n, d) and "pos_embed" not in model.state_dict()
    merged = sincos_pos_embed_2d(g, 3 * g, d).view(g, 3 * g, d)
    for third in range(3):
        for row, col in [(0, 0), (1, 2), (g - 1, g - 1)]:
            assert torch.equal(pe[third * n + row * g + col], merged[row, third * g + col])
    assert len({tuple(r.tolist()) for r in pe}) == 3 * n  # every token has its own position
    # PixArt's layout: first half of the channels is the column (x), sin then cos.
    assert torch.allclose(merged[0, 5, : d // 4], torch.sin(5.0 / 10000 ** (torch.arange(d // 4) / (d / 4))))


def test_patch_embedding_equals_patchifying_the_width_concatenation():
    model = _model()
    cfg = model.config
    inp = _inputs(cfg)
    g, n = cfg.grid_size, cfg.tokens_per_image
    with torch.no_grad():
        wide = torch.cat([inp["x_t"], inp["anchor"], inp["reference"]], dim=-1)  # [B, C, h, 3w]
        assert wide.shape[-1] == 3 * cfg.latent_size
        conv = model.x_embedder.proj(wide)  # [B, D, g, 3g]
        ours = model._embed([inp["x_t"], inp["anchor"], inp["reference"]], 0) - model.pos_embed
    for third in range(3):
        expect = conv[:, :, :, third * g:(third + 1) * g].flatten(2).transpose(1, 2)
        torch.testing.assert_close(ours[:, third * n:(third + 1) * n], expect)


# ----------------------------------------------------------------------------- behaviour
def test_inputs_change_the_output():
    model = _model()
    inp = _inputs(model.config)
    with torch.no_grad():
        base = model(**inp)
        for key in ("x_t", "anchor", "reference", "target_w2c", "reference_w2c", "timestep"):
            changed = dict(inp)
            if key == "timestep":
                changed[key] = inp[key] + 37
            elif key.endswith("w2c"):
                moved = inp[key].clone()
                moved[:, :3, 3] += torch.tensor([0.3, -0.2, 0.1])
                changed[key] = moved
            else:
                changed[key] = inp[key] + 0.5 * torch.randn_like(inp[key])
            assert (model(**changed) - base).abs().max() > 1e-3, key


def test_reference_isolation_matches_masked_attention():
    model = _model()
    inp = _inputs(model.config)
    with torch.no_grad():
        torch.testing.assert_close(model(**inp), _masked_reference_forward(model, inp, True),
                                   rtol=1e-5, atol=1e-5)


def test_full_attention_variant_lets_reference_tokens_see_the_target():
    model = _model(reference_self_attention_only=False)
    inp = _inputs(model.config)
    with torch.no_grad():
        out = model(**inp)
        torch.testing.assert_close(out, _masked_reference_forward(model, inp, False), rtol=1e-5, atol=1e-5)
        assert (out - _masked_reference_forward(model, inp, True)).abs().max() > 1e-4
        with pytest.raises(ValueError, match="reference_self_attention_only"):
            model.compute_reference_cache(inp["reference"], inp["reference_w2c"], inp["reference_K"],
                                          inp["timestep"])


def test_reference_cache_gives_the_uncached_output():
    model = _model()
    inp = _inputs(model.config, batch=2)
    with torch.no_grad():
        full = model(**inp)
        cache = model.compute_reference_cache(inp["reference"], inp["reference_w2c"], inp["reference_K"],
                                              inp["timestep"])
        assert isinstance(cache, ReferenceCache) and len(cache.keys) == model.config.depth
        assert cache.nbytes == 2 * 2 * 2 * model.config.tokens_per_image * model.config.hidden_size * 4
        cached = model(**{**inp, "reference": None, "reference_w2c": None, "reference_K": None},
                       reference_cache=cache)
    torch.testing.assert_close(cached, full, rtol=1e-5, atol=1e-5)


def test_a_batch_one_cache_serves_many_target_poses():
    model = _model()
    cfg = model.config
    inp = _inputs(cfg, batch=3, seed=4)
    inp["timestep"] = torch.full((3,), 999)
    ref, ref_w2c, ref_K = inp["reference"][:1], inp["reference_w2c"][:1], inp["reference_K"][:1]
    inp.update(reference=ref.expand(3, -1, -1, -1), reference_w2c=ref_w2c.expand(3, 4, 4),
               reference_K=ref_K.expand(3, 3, 3))
    with torch.no_grad():
        full = model(**inp)
        cache = model.compute_reference_cache(ref, ref_w2c, ref_K, 999)
        torch.testing.assert_close(model(**inp, reference_cache=cache), full, rtol=1e-5, atol=1e-5)
        with pytest.raises(ValueError, match="a cache is per timestep"):
            model(**{**inp, "timestep": torch.full((3,), 200)}, reference_cache=cache)


def test_anchor_keep_swaps_in_the_learned_null_anchor():
    model = _model()
    inp = _inputs(model.config)
    keep = torch.tensor([True, False])
    with torch.no_grad():
        masked = model(**inp, anchor_keep=keep)
        null_anchor = torch.cat([inp["anchor"][:1], model.null_anchor])
        no_coverage = inp["anchor_mask"].clone()
        no_coverage[1] = 0.0  # a dropped anchor drops its coverage too
        torch.testing.assert_close(masked, model(**{**inp, "anchor": null_anchor, "anchor_mask": no_coverage}),
                                   rtol=1e-6, atol=1e-6)
        other = model(**{**inp, "anchor": inp["anchor"] * -3.0, "anchor_mask": 1.0 - inp["anchor_mask"]},
                      anchor_keep=keep)
        torch.testing.assert_close(other[1], masked[1], rtol=1e-6, atol=1e-6)  # anchor ignored
        assert (other[0] - masked[0]).abs().max() > 1e-3  # kept anchor still matters
        torch.testing.assert_close(model(**inp, anchor_keep=torch.tensor([True, True])), model(**inp))


def test_integer_and_float_timesteps_agree():
    model = _model()
    inp = _inputs(model.config)
    with torch.no_grad():
        a = model(**{**inp, "timestep": torch.tensor([3, 999])})
        b = model(**{**inp, "timestep": torch.tensor([3.0, 999.0])})
    torch.testing.assert_close(a, b)


def test_a_few_optimisation_steps_reduce_the_noise_prediction_loss():
    model = _model(seed=1).train()
    inp = _inputs(model.config, batch=4, seed=1)
    eps = torch.randn(inp["x_t"].shape, generator=torch.Generator().manual_seed(5))
    keep = torch.tensor([True, False, True, True])
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=0.0)
    losses = []
    for _ in range(25):
        loss = F.mse_loss(model(**inp, anchor_keep=keep), eps)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0], losses
    assert model.null_anchor.grad is not None and model.null_anchor.grad.abs().sum() > 0
    assert all(p.grad is not None for p in model.parameters())  # DDP needs every parameter used
    opt.zero_grad()
    F.mse_loss(model(**inp), eps).backward()
    assert model.null_anchor.grad is not None  # in the graph even when every anchor is kept


@pytest.mark.parametrize("key, value, message", [
    ("x_t", torch.zeros(2, 4, 8, 16), r"x_t must be \[B, 4, 8, 8\]"),
    ("anchor", torch.zeros(3, 4, 8, 8), "anchor has batch 3, expected 2"),
    ("reference", None, "reference must be"),
    ("target_w2c", torch.zeros(2, 3, 4), r"target_w2c must be \[2, 4, 4\]"),
    ("reference_K", torch.zeros(2, 4, 4), r"reference_K must be \[2, 3, 3\]"),
    ("timestep", torch.zeros(3), r"timestep must be \[B\]"),
    ("anchor_keep", torch.ones(2), "anchor_keep must be a"),
    ("x_t", torch.zeros(2, 4, 8, 8, dtype=torch.long), "floating"),
])
def test_bad_inputs_raise_value_errors(key, value, message):
    model = _model()
    inp = _inputs(model.config)
    inp[key] = value
    with pytest.raises(ValueError, match=message):
        model(**inp)


def test_anchor_coverage_input():
    """anchor_mask_channel: the coverage is required, reaches the output once the model has
    learned to use it, and starts neutral (its embedding is zero-initialised); a model
    without the channel refuses one."""
    model = _model()
    inp = _inputs(model.config)
    with torch.no_grad():
        out = model(**inp)
        other = model(**{**inp, "anchor_mask": 1.0 - inp["anchor_mask"]})
        assert (out - other).abs().max() > 1e-3
        fresh = FrameModel(model.config).eval()
        torch.testing.assert_close(fresh(**inp), fresh(**{**inp, "anchor_mask": torch.zeros_like(inp["anchor_mask"])}))
    with pytest.raises(ValueError, match="anchor_mask must be a float tensor"):
        model(**{k: v for k, v in inp.items() if k != "anchor_mask"})
    with pytest.raises(ValueError, match="anchor_mask must be a float tensor"):
        model(**{**inp, "anchor_mask": inp["anchor_mask"][:, :, :4]})
    plain = _model(anchor_mask_channel=False)
    with pytest.raises(ValueError, match="no anchor-mask input"):
        plain(**inp)
    with torch.no_grad():
        assert plain(**{k: v for k, v in inp.items() if k != "anchor_mask"}).shape == out.shape


def test_legacy_checkpoints_load_with_the_legacy_conditioning(tmp_path):
    from worldbridge.models import load_frame_model, save_checkpoint

    model = _model(anchor_mask_channel=False, pose_normalization="none")
    save_checkpoint(model, tmp_path)
    data = json.loads((tmp_path / "config.json").read_text())
    assert data["_format_version"] == 2 and data["pose_normalization"] == "none"
    for key in ("anchor_mask_channel", "pose_normalization", "anchor_hole_value"):
        del data[key]
    data["_format_version"] = 1
    (tmp_path / "config.json").write_text(json.dumps(data))
    cfg = load_frame_model(tmp_path).config
    assert (cfg.anchor_mask_channel, cfg.pose_normalization, cfg.anchor_hole_value) == (False, "none", 0.0)
    # the same file written as format 2 without the keys means the new defaults: refused,
    # because the weights have no coverage embedding
    data["_format_version"] = 2
    (tmp_path / "config.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="mask_embedder"):
        load_frame_model(tmp_path)
    data["_format_version"] = 9
    (tmp_path / "config.json").write_text(json.dumps(data))
    with pytest.raises(ValueError, match="newer"):
        load_frame_model(tmp_path)
