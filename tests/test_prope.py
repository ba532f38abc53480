"""PRoPE (Li et al. 2025): projective camera transforms + 2D RoPE inside attention."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import random_pose

from worldbridge.models import FrameModel, FrameModelConfig
from worldbridge.models.prope import (
    PRoPE,
    normalize_intrinsics,
    projection_matrices,
    prope_attention,
)

IMAGE = 64
GRID = 3
HEAD_DIM = 16


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _poses(rng: np.random.Generator, n: int) -> torch.Tensor:
    return torch.tensor(np.stack([random_pose(rng, translation=2.0) for _ in range(n)]),
                        dtype=torch.float64)


def _intrinsics(n: int, rng: np.random.Generator) -> torch.Tensor:
    f = rng.uniform(40, 90, size=(n, 2))
    c = rng.uniform(24, 40, size=(n, 2))
    K = np.zeros((n, 3, 3))
    K[:, 0, 0], K[:, 1, 1], K[:, 0, 2], K[:, 1, 2], K[:, 2, 2] = f[:, 0], f[:, 1], c[:, 0], c[:, 1], 1
    return torch.tensor(K)


def _prope(w2c: torch.Tensor, K: torch.Tensor) -> PRoPE:
    """PRoPE for views ``w2c [V, 4, 4]`` (batch 1)."""
    return PRoPE.from_cameras(w2c[None], K[None], image_size=IMAGE, grid_size=GRID, head_dim=HEAD_DIM)


def _logits(cam: PRoPE, q: torch.Tensor, k: torch.Tensor) -> torch.Tensor:
    return cam.query(q) @ cam.key_value(k).transpose(-1, -2)


def _qk(views: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    shape = (1, 2, views * GRID * GRID, HEAD_DIM)
    return tuple(torch.randn(shape, generator=g, dtype=torch.float64) for _ in range(3))  # type: ignore[return-value]


def _rigid(rng: np.random.Generator) -> torch.Tensor:
    return torch.tensor(random_pose(rng, translation=5.0), dtype=torch.float64)


def test_projection_matrix_maps_world_points_to_normalised_pixels():
    rng = np.random.default_rng(0)
    w2c, K = _poses(rng, 4), _intrinsics(4, rng)
    P, P_inv = projection_matrices(w2c, K, IMAGE)
    torch.testing.assert_close(P @ P_inv, torch.eye(4, dtype=torch.float64).expand(4, 4, 4))
    X = torch.tensor([0.3, -0.2, 4.0, 1.0], dtype=torch.float64)
    for i in range(4):
        cam = (w2c[i] @ X)[:3]
        pix = K[i] @ cam
        u, v = pix[0] / pix[2], pix[1] / pix[2]
        h = P[i] @ X
        torch.testing.assert_close(h[:2] / h[2], torch.stack([u / IMAGE - 0.5, v / IMAGE - 0.5]))
    kn = normalize_intrinsics(K, IMAGE, IMAGE)
    torch.testing.assert_close(kn[:, 0, 2], K[:, 0, 2] / IMAGE - 0.5)


def test_attention_logits_are_relative_to_the_cameras():
    rng = np.random.default_rng(1)
    w2c, K = _poses(rng, 2), _intrinsics(2, rng)
    q, k, _ = _qk(2)
    base = _logits(_prope(w2c, K), q, k)
    # A rigid motion of the whole world (w2c -> w2c @ G) changes no relative pose.
    G = _rigid(rng)
    torch.testing.assert_close(_logits(_prope(w2c @ G, K), q, k), base, rtol=1e-9, atol=1e-9)
    # Moving one camera changes the cross-view logits but not those inside either view.
    moved = w2c.clone()
    moved[1] = _rigid(rng) @ w2c[1]
    other = _logits(_prope(moved, K), q, k)
    n = GRID * GRID
    assert (other[..., :n, n:] - base[..., :n, n:]).abs().max() > 1e-2
    assert (other[..., n:, :n] - base[..., n:, :n]).abs().max() > 1e-2
    torch.testing.assert_close(other[..., :n, :n], base[..., :n, :n], rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(other[..., n:, n:], base[..., n:, n:], rtol=1e-9, atol=1e-9)


def test_attention_output_is_invariant_to_a_global_rigid_transform():
    rng = np.random.default_rng(2)
    w2c, K = _poses(rng, 3), _intrinsics(3, rng)
    q, k, v = _qk(3, seed=2)
    out = prope_attention(q, k, v, _prope(w2c, K))
    G = _rigid(rng)
    torch.testing.assert_close(prope_attention(q, k, v, _prope(w2c @ G, K)), out)
    moved = w2c.clone()
    moved[2] = _rigid(rng) @ w2c[2]
    assert (prope_attention(q, k, v, _prope(moved, K)) - out).abs().max() > 1e-3


def test_one_camera_reduces_the_projective_half_to_plain_attention():
    rng = np.random.default_rng(3)
    q, k, _ = _qk(1, seed=3)
    q[..., HEAD_DIM // 2:] = 0  # keep only the projective channels
    plain = q @ k.transpose(-1, -2)
    for _ in range(3):
        torch.testing.assert_close(_logits(_prope(_poses(rng, 1), _intrinsics(1, rng)), q, k), plain)


def test_rope_half_depends_on_patch_offsets_only():
    rng = np.random.default_rng(4)
    cam = _prope(_poses(rng, 1), _intrinsics(1, rng))
    g = torch.Generator().manual_seed(4)
    qv, kv = torch.randn(HEAD_DIM, generator=g), torch.randn(HEAD_DIM, generator=g)
    qv[: HEAD_DIM // 2] = 0
    n = GRID * GRID
    q, k = qv.expand(1, 1, n, HEAD_DIM), kv.expand(1, 1, n, HEAD_DIM)  # same features everywhere
    logit = _logits(cam, q, k)[0, 0]

    def idx(x: int, y: int) -> int:
        return y * GRID + x

    torch.testing.assert_close(logit[idx(0, 0), idx(1, 0)], logit[idx(1, 2), idx(2, 2)])
    torch.testing.assert_close(logit[idx(0, 0), idx(0, 1)], logit[idx(2, 1), idx(2, 2)])
    assert (logit[idx(0, 0), idx(1, 0)] - logit[idx(0, 0), idx(2, 0)]).abs() > 1e-3
    assert (logit[idx(0, 0), idx(1, 0)] - logit[idx(0, 0), idx(0, 1)]).abs() > 1e-3


def test_output_transform_undoes_the_value_transform():
    rng = np.random.default_rng(5)
    w2c, K = _poses(rng, 2), _intrinsics(2, rng)
    cam = _prope(w2c, K)
    q, k, v = _qk(2, seed=5)
    n = GRID * GRID
    # Each token attends to itself only: PRoPE must hand its own value back unchanged.
    torch.testing.assert_close(prope_attention(q, k, v, cam, attn_mask=torch.eye(2 * n, dtype=torch.bool)), v)
    # Token i of view 0 attending to token i of view 1 only gets P_0 P_1^-1 v on each 4-block.
    mask = torch.zeros(2 * n, 2 * n, dtype=torch.bool)
    mask[torch.arange(n), torch.arange(n) + n] = True
    mask[torch.arange(n) + n, torch.arange(n) + n] = True
    out = prope_attention(q, k, v, cam, attn_mask=mask)[..., :n, : HEAD_DIM // 2]
    rel = cam.P[0, 0].double() @ cam.P_inv[0, 1].double()
    expect = (v[..., n:, : HEAD_DIM // 2].reshape(1, 2, n, -1, 4) @ rel.T).reshape(1, 2, n, -1)
    torch.testing.assert_close(out, expect)


def _model_inputs(cfg: FrameModelConfig, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    g = torch.Generator().manual_seed(seed)
    shape = (1, cfg.latent_channels, cfg.latent_size, cfg.latent_size)
    K = torch.tensor([[60.0, 0, 31], [0, 58, 33], [0, 0, 1]])[None]
    return dict(x_t=torch.randn(shape, generator=g), timestep=torch.tensor([400]),
                anchor=torch.randn(shape, generator=g), reference=torch.randn(shape, generator=g),
                target_w2c=_poses(rng, 1).float(), target_K=K, reference_w2c=_poses(rng, 1).float(),
                reference_K=K, anchor_mask=torch.rand((1, 1) + shape[2:], generator=g))


def _model(**overrides) -> FrameModel:
    torch.manual_seed(0)
    model = FrameModel(FrameModelConfig.tiny(**overrides)).double().eval()
    with torch.no_grad():
        model.final_layer.linear.weight.normal_(std=0.2)
    return model


def test_model_output_depends_on_relative_camera_poses_only():
    model = _model()
    inp = {k: v.double() if v.is_floating_point() else v for k, v in _model_inputs(model.config, 6).items()}
    with torch.no_grad():
        out = model(**inp)
        G = _rigid(np.random.default_rng(7))
        same = model(**{**inp, "target_w2c": inp["target_w2c"] @ G, "reference_w2c": inp["reference_w2c"] @ G})
        torch.testing.assert_close(same, out)
        moved = inp["target_w2c"].clone()
        moved[0] = _rigid(np.random.default_rng(8)) @ moved[0]
        assert (model(**{**inp, "target_w2c": moved}) - out).abs().max() > 1e-3
        zoom = inp["reference_K"].clone()
        zoom[:, :2, :2] *= 1.5
        assert (model(**{**inp, "reference_K": zoom}) - out).abs().max() > 1e-3


def test_without_prope_the_cameras_have_no_effect():
    model = _model(use_prope=False)
    inp = _model_inputs(model.config, 9)
    inp = {k: v.double() if v.is_floating_point() else v for k, v in inp.items()}
    rng = np.random.default_rng(10)
    with torch.no_grad():
        out = model(**inp)
        other = model(**{**inp, "target_w2c": _poses(rng, 1), "reference_w2c": _poses(rng, 1),
                         "target_K": inp["target_K"] * 1.3})
    assert torch.equal(out, other)


def test_prope_checks_head_dim_and_shapes():
    rng = np.random.default_rng(11)
    w2c, K = _poses(rng, 2)[None], _intrinsics(2, rng)[None]
    with pytest.raises(ValueError, match="divisible by 8"):
        PRoPE.from_cameras(w2c, K, image_size=IMAGE, grid_size=GRID, head_dim=12)
    with pytest.raises(ValueError, match=r"K must be \[B, V, 3, 3\]"):
        PRoPE.from_cameras(w2c, K[:, :1], image_size=IMAGE, grid_size=GRID, head_dim=HEAD_DIM)
    cam = PRoPE.from_cameras(w2c, K, image_size=IMAGE, grid_size=GRID, head_dim=HEAD_DIM)
    with pytest.raises(ValueError, match="cannot apply"):
        cam.query(torch.zeros(1, 2, 3 * GRID * GRID, HEAD_DIM))
    assert cam.views(1, 2).num_views == 1


def test_bfloat16_autocast_forward_runs_and_stays_close():
    model = _model()
    model.float()
    inp = _model_inputs(model.config, 12)
    with torch.no_grad():
        ref = model(**inp)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = model(**inp)
    assert low.shape == ref.shape and torch.isfinite(low).all()
    assert (low.float() - ref).abs().max() < 0.1 * ref.abs().max() + 0.05
