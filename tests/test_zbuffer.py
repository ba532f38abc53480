"""The z-buffer anchor renderer against a slow, obvious reference (both backends, exactly)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import random_pose

from worldbridge.geometry import Intrinsics, invert_rigid
from worldbridge.render import AnchorRender, render_points, warmup

F32 = np.float32


def reference_render(points, colors, w2c, K, height, width, near=1e-3, radius=0):  # noqa: N803
    """One point at a time, float32 arithmetic as documented; keep the nearest (first on ties)."""
    m = np.asarray(w2c, dtype=np.float64)[:3].astype(F32)
    fx, fy, cx, cy = (F32(K[0][0]), F32(K[1][1]), F32(K[0][2]), F32(K[1][2]))
    best_z = np.full((height, width), np.inf, dtype=F32)
    best_i = np.full((height, width), -1, dtype=np.int64)
    with np.errstate(all="ignore"):
        for i, (px, py, pz) in enumerate(np.asarray(points, dtype=F32)):
            z = px * m[2, 0] + py * m[2, 1] + pz * m[2, 2] + m[2, 3]
            x = px * m[0, 0] + py * m[0, 1] + pz * m[0, 2] + m[0, 3]
            y = px * m[1, 0] + py * m[1, 1] + pz * m[1, 2] + m[1, 3]
            if not (z > F32(near) and z < np.inf):
                continue
            u = (x / z) * fx + cx
            v = (y / z) * fy + cy
            if not (0 <= u < width and 0 <= v < height):
                continue
            col, row = int(np.floor(u)), int(np.floor(v))
            for r in range(row - radius, row + radius + 1):
                for c in range(col - radius, col + radius + 1):
                    if 0 <= r < height and 0 <= c < width and z < best_z[r, c]:
                        best_z[r, c], best_i[r, c] = z, i
    mask = best_i >= 0
    image = np.zeros((height, width, colors.shape[1]), dtype=colors.dtype)
    image[mask] = colors[best_i[mask]]
    return image, np.where(mask, best_z, F32(0)), mask


def random_scene(rng, n=2500, height=40, width=56):
    """Points around a camera: in view, behind it, off the image, on the near plane,
    non-finite, exact duplicates (ties) and equal-depth pairs."""
    c2w = random_pose(rng)
    k = np.array([[30.0, 0, width / 2 + 0.3], [0, 34.0, height / 2 - 0.7], [0, 0, 1]])
    z = rng.uniform(0.5, 6.0, n)
    z[: n // 10] *= -1  # behind the camera
    u = rng.uniform(-0.3 * width, 1.3 * width, n)  # some off the image
    v = rng.uniform(-0.3 * height, 1.3 * height, n)
    cam = np.stack([(u - k[0, 2]) / k[0, 0] * z, (v - k[1, 2]) / k[1, 1] * z, z], axis=1)
    cam[n // 10: n // 10 + 20, 2] = 0.0  # on the camera plane
    cam[n // 10 + 20: n // 10 + 40, 2] = 1e-4  # in front, but closer than near
    world = (cam @ c2w[:3, :3].T + c2w[:3, 3]).astype(F32)
    world[-5:] = [np.nan, 0, 1]  # non-finite
    world[-10:-5] = [np.inf, 0, 1]
    dup = rng.integers(0, n - 10, 200)
    world = np.concatenate([world, world[dup]])  # exact duplicates: ties, lowest index wins
    return world, invert_rigid(c2w), k, height, width


COLOR_CASES = [
    ("uint8_rgb", lambda rng, n: rng.integers(0, 256, (n, 3), dtype=np.uint8)),
    ("float32_latent", lambda rng, n: rng.normal(size=(n, 5)).astype(F32)),
    ("int16_single", lambda rng, n: rng.integers(-999, 999, (n, 1)).astype(np.int16)),
    ("uint16_pair", lambda rng, n: rng.integers(0, 65535, (n, 2)).astype(np.uint16)),
]


def assert_same(render: AnchorRender, expected) -> None:
    image, depth, mask = expected
    got = [render.image, render.depth, render.mask]
    got = [g.cpu().numpy() if isinstance(g, torch.Tensor) else g for g in got]
    assert got[0].dtype == image.dtype and got[0].shape == image.shape
    assert got[1].dtype == np.float32 and got[2].dtype == np.bool_
    np.testing.assert_array_equal(got[2], mask)
    np.testing.assert_array_equal(got[1], depth)
    np.testing.assert_array_equal(got[0], image)


@pytest.fixture(scope="module", autouse=True)
def _compiled():
    warmup()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("radius", [0, 1, 2])
@pytest.mark.parametrize("color_case", COLOR_CASES, ids=[c[0] for c in COLOR_CASES])
def test_backends_match_reference_exactly(seed, radius, color_case):
    rng = np.random.default_rng(seed * 10 + radius)
    points, w2c, k, h, w = random_scene(rng)
    colors = color_case[1](rng, len(points))
    expected = reference_render(points, colors, w2c, k, h, w, radius=radius)
    assert expected[2].sum() > 100  # the scene does cover the image
    for backend in ("numba", "torch"):
        out = render_points(points, colors, w2c, k, h, w, point_radius_px=radius, backend=backend)
        assert isinstance(out.image, np.ndarray)
        assert_same(out, expected)
    out = render_points(torch.from_numpy(points), torch.from_numpy(colors), torch.from_numpy(w2c),
                        torch.from_numpy(k), h, w, point_radius_px=radius, backend="torch")
    assert isinstance(out.image, torch.Tensor) and out.image.dtype == torch.from_numpy(colors).dtype
    assert_same(out, expected)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("radius", [0, 1])
def test_cuda_matches_reference_exactly(radius):
    rng = np.random.default_rng(7)
    points, w2c, k, h, w = random_scene(rng)
    colors = rng.integers(0, 256, (len(points), 3), dtype=np.uint8)
    expected = reference_render(points, colors, w2c, k, h, w, radius=radius)
    out = render_points(torch.from_numpy(points).cuda(), torch.from_numpy(colors).cuda(), w2c, k,
                        h, w, point_radius_px=radius)  # auto -> torch on CUDA
    assert out.image.device.type == "cuda" and out.depth.device.type == "cuda"
    assert_same(out, expected)


def test_auto_backend_and_output_kinds():
    rng = np.random.default_rng(3)
    points, w2c, k, h, w = random_scene(rng, n=400)
    colors = rng.integers(0, 256, (len(points), 3), dtype=np.uint8)
    expected = reference_render(points, colors, w2c, k, h, w)
    out = render_points(points, colors, w2c, k, h, w)
    assert isinstance(out.depth, np.ndarray)
    assert_same(out, expected)
    out = render_points(torch.from_numpy(points), torch.from_numpy(colors), w2c, k, h, w)
    assert isinstance(out.depth, torch.Tensor) and out.depth.device.type == "cpu"
    assert_same(out, expected)
    out = render_points(points.astype(np.float64), colors, w2c, Intrinsics(
        k[0, 0], k[1, 1], k[0, 2], k[1, 2], w, h), h, w)
    assert_same(out, expected)


def test_ties_lowest_index_wins_and_order_matters():
    pts = np.array([[0.0, 0.0, 2.0], [0.0, 0.0, 2.0], [0.0, 0.0, 3.0]], dtype=F32)
    colors = np.array([[1], [2], [3]], dtype=np.uint8)
    k = np.array([[10.0, 0, 2.0], [0, 10.0, 2.0], [0, 0, 1]])
    for backend in ("numba", "torch"):
        out = render_points(pts, colors, np.eye(4), k, 4, 4, backend=backend)
        assert out.image[2, 2, 0] == 1 and out.depth[2, 2] == 2.0 and out.mask.sum() == 1
        out = render_points(pts[::-1].copy(), colors[::-1].copy(), np.eye(4), k, 4, 4,
                            backend=backend)
        assert out.image[2, 2, 0] == 2  # now the other duplicate comes first


def test_pixel_convention_edges():
    # u = fx * x / z + cx; pixel (row, col) covers u in [col, col + 1).
    k = np.array([[1.0, 0, 0.0], [0, 1.0, 0.0], [0, 0, 1]])
    pts = np.array([[0.0, 0.0, 1.0],      # u = v = 0 -> pixel (0, 0)
                    [2.999, 1.0, 1.0],    # u just under 3 -> col 2, row 1
                    [4.0, 0.0, 1.0],      # u = W -> dropped
                    [-0.001, 0.0, 1.0]],  # u < 0 -> dropped
                   dtype=F32)
    colors = np.arange(1, 5, dtype=np.uint8)[:, None]
    for backend in ("numba", "torch"):
        out = render_points(pts, colors, np.eye(4), k, 3, 4, backend=backend)
        assert out.mask.sum() == 2
        assert out.image[0, 0, 0] == 1 and out.image[1, 2, 0] == 2


def test_translated_camera_sees_plane_at_right_depth():
    # A dense plane z = 5 m (world), a red marker point slightly in front at (1, 0.5, 4.99).
    g = np.linspace(-4, 4, 801, dtype=F32)
    xx, yy = np.meshgrid(g, g)
    plane = np.stack([xx.ravel(), yy.ravel(), np.full(xx.size, 5.0, F32)], axis=1)
    pts = np.concatenate([np.array([[1.0, 0.5, 4.99]], F32), plane])
    colors = np.zeros((len(pts), 3), np.uint8)
    colors[0] = [255, 0, 0]
    colors[1:] = [0, 128, 0]
    intr = Intrinsics.from_horizontal_fov(60.0, 64, 48)
    c2w = np.eye(4)
    c2w[:3, 3] = [0.5, 0.0, 1.0]  # moved right and 1 m forward
    for backend in ("numba", "torch"):
        out = render_points(pts, colors, invert_rigid(c2w), intr, 48, 64, backend=backend)
        assert out.mask.all()
        plane_px = out.image[..., 1] == 128
        np.testing.assert_allclose(out.depth[plane_px], 4.0, rtol=1e-6)
        u = intr.fx * (1.0 - 0.5) / (4.99 - 1.0) + intr.cx
        v = intr.fy * 0.5 / (4.99 - 1.0) + intr.cy
        assert tuple(out.image[int(v), int(u)]) == (255, 0, 0)
        assert out.depth[int(v), int(u)] == pytest.approx(3.99, rel=1e-6)
        assert (out.image[..., 0] == 255).sum() == 1


def test_empty_and_all_dropped():
    k = np.array([[10.0, 0, 5], [0, 10.0, 5], [0, 0, 1]])
    for backend in ("numba", "torch"):
        out = render_points(np.zeros((0, 3), F32), np.zeros((0, 4), F32), np.eye(4), k, 6, 7,
                            backend=backend)
        assert out.image.shape == (6, 7, 4) and not out.mask.any() and (out.depth == 0).all()
        out = render_points(np.array([[0, 0, -1.0]], F32), np.ones((1, 3), np.uint8), np.eye(4),
                            k, 6, 7, backend=backend)
        assert not out.mask.any() and out.coverage() == 0.0


BAD_INPUTS = [
    (dict(points=np.zeros((5, 2), F32)), "points must be \\[N, 3\\]"),
    (dict(points=np.zeros((5, 3), np.int32)), "points must be a floating"),
    (dict(colors=np.zeros((4, 3), np.uint8)), "colors must be \\[N, C\\] with N = 5"),
    (dict(colors=np.zeros((5,), np.uint8)), "colors must be \\[N, C\\]"),
    (dict(colors=np.zeros((5, 3), np.complex64)), "colors must be a numeric"),
    (dict(colors=torch.zeros((5, 3))), "must both be numpy arrays or both torch"),
    (dict(w2c=np.eye(3)), "w2c must be \\[4, 4\\]"),
    (dict(w2c=np.full((4, 4), np.nan)), "w2c has non-finite"),
    (dict(K=np.eye(4)), "K must be \\[3, 3\\]"),
    (dict(K=np.array([[1.0, 0.1, 0], [0, 1, 0], [0, 0, 1]])), "pinhole"),
    (dict(K=np.array([[-1.0, 0, 0], [0, 1, 0], [0, 0, 1]])), "focal lengths must be > 0"),
    (dict(height=0), "height must be a positive integer, got 0"),
    (dict(width=2.5), "width must be an integer, got 2.5"),
    (dict(point_radius_px=-1), "point_radius_px must be >= 0, got -1"),
    (dict(near=0.0), "near must be a finite number > 0"),
    (dict(backend="opengl"), "backend must be one of"),
]


@pytest.mark.parametrize("bad,message", BAD_INPUTS, ids=[m for _, m in BAD_INPUTS])
def test_bad_inputs_raise_value_error(bad, message):
    args = dict(points=np.zeros((5, 3), F32), colors=np.zeros((5, 3), np.uint8), w2c=np.eye(4),
                K=np.array([[10.0, 0, 4], [0, 10.0, 4], [0, 0, 1]]), height=8, width=8)
    args.update(bad)
    kwargs = {k: args.pop(k) for k in ("near", "point_radius_px", "backend") if k in args}
    with pytest.raises(ValueError, match=message):
        render_points(**args, **kwargs)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_numba_backend_refuses_cuda_tensors():
    with pytest.raises(ValueError, match="numba' runs on the CPU only"):
        render_points(torch.zeros((1, 3), device="cuda"), torch.zeros((1, 3), device="cuda"),
                      np.eye(4), np.eye(3), 2, 2, backend="numba")


def test_backends_agree_bit_for_bit_on_a_large_scene():
    rng = np.random.default_rng(11)
    points, w2c, k, _, _ = random_scene(rng, n=200_000, height=120, width=160)
    k = k * [[4, 1, 4], [1, 4, 4], [1, 1, 1]]  # the same camera at 160x120 -> 640x480
    colors = rng.normal(size=(len(points), 2)).astype(F32)
    for radius in (0, 1):
        a = render_points(points, colors, w2c, k, 480, 640, point_radius_px=radius, backend="numba")
        b = render_points(points, colors, w2c, k, 480, 640, point_radius_px=radius, backend="torch")
        assert a.mask.sum() > 10_000
        assert_same(b, (a.image, a.depth, a.mask))
