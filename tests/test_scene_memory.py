"""Scene memory: unprojection, round trips through the renderer, de-duplication, eviction."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
from helpers import random_pose

from worldbridge.geometry import Intrinsics, PoseError, invert_rigid
from worldbridge.memory import SceneMemory, unproject_depth, warmup
from worldbridge.memory._voxel_set import VoxelCounter, voxel_keys
from worldbridge.render import render_points

INTR = Intrinsics.from_horizontal_fov(70.0, 96, 64)


@pytest.fixture(scope="module", autouse=True)
def _compiled():
    warmup()


def random_view(rng, intr=INTR, invalid=0.1):
    h, w = intr.height, intr.width
    depth = rng.uniform(0.5, 8.0, (h, w)).astype(np.float32)
    depth[rng.random((h, w)) < invalid] = 0.0
    depth[0, :3] = [np.inf, np.nan, -1.0]  # also invalid
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    return rgb, depth


def wall_depth(intr, distance):
    """Depth of a fronto-parallel wall ``distance`` metres in front of the camera."""
    return np.full((intr.height, intr.width), distance, dtype=np.float32)


def look_pose(x=0.0, y=0.0, z=0.0, yaw_deg=0.0):
    """OpenCV c2w at (x, y, z), turned ``yaw_deg`` about the world's Y (down) axis."""
    a = np.radians(yaw_deg)
    c2w = np.eye(4)
    c2w[:3, :3] = [[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]]
    c2w[:3, 3] = [x, y, z]
    return c2w


# ------------------------------------------------------------------ unproject
def test_unproject_matches_pinhole_formula():
    rng = np.random.default_rng(0)
    _, depth = random_view(rng)
    c2w = random_pose(rng, 2.0)
    points, pixels = unproject_depth(depth, INTR, c2w)
    valid = np.isfinite(depth) & (depth > 0)
    np.testing.assert_array_equal(pixels, np.flatnonzero(valid))
    rows, cols = np.divmod(pixels, INTR.width)
    z = depth.reshape(-1)[pixels].astype(np.float64)
    cam = np.stack([(cols + 0.5 - INTR.cx) / INTR.fx * z, (rows + 0.5 - INTR.cy) / INTR.fy * z,
                    z], axis=1)
    world = cam @ c2w[:3, :3].T + c2w[:3, 3]
    assert points.dtype == np.float32 and points.shape == (valid.sum(), 3)
    np.testing.assert_allclose(points, world, rtol=0, atol=1e-5)
    # The K-matrix form gives the same points.
    points_k, _ = unproject_depth(depth, INTR.K, c2w)
    np.testing.assert_array_equal(points_k, points)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unproject_render_round_trip_same_camera(seed):
    rng = np.random.default_rng(seed)
    rgb, depth = random_view(rng)
    c2w = random_pose(rng, 2.0)
    mem = SceneMemory(voxel_size=0.05)
    added = mem.add_view(rgb, depth, INTR, c2w, reference=True)
    valid = np.isfinite(depth) & (depth > 0)
    assert added == mem.num_points == valid.sum()
    for backend in ("numba", "torch"):
        out = mem.render(c2w, INTR, backend=backend)
        np.testing.assert_array_equal(out.mask, valid)
        np.testing.assert_array_equal(out.image[valid], rgb[valid])
        np.testing.assert_allclose(out.depth[valid], depth[valid], rtol=1e-5)
        assert (out.depth[~valid] == 0).all() and (out.image[~valid] == 0).all()


def test_translated_camera_sees_plane_at_right_depth():
    # A wall 6 m ahead, seen from the origin; then a camera 2 m closer and 0.5 m to the side.
    intr = Intrinsics.from_horizontal_fov(60.0, 128, 96)
    rgb = np.zeros((96, 128, 3), np.uint8)
    rgb[..., 1] = 200
    rgb[40:56, 56:72] = [255, 0, 0]  # a red patch at the wall centre
    mem = SceneMemory()
    mem.add_view(rgb, wall_depth(intr, 6.0), intr, np.eye(4))
    c2w = look_pose(x=0.5, z=2.0)
    out = mem.render(c2w, intr, point_radius_px=1)  # moving closer spreads points apart
    assert out.coverage() > 0.6
    np.testing.assert_allclose(out.depth[out.mask], 4.0, rtol=1e-5)
    # The patch's centre is world (0, 0, 6) (pixel 64, 48 at the origin), so it is now seen
    # at u = fx * (0 - 0.5) / 4 + cx (without splats, whose ties favour older points).
    red = mem.render(c2w, intr).image[..., 0] == 255
    assert red.sum() == 16 * 16  # every red point is visible, one pixel each
    u_expected = intr.fx * -0.5 / 4.0 + intr.cx
    assert abs(np.nonzero(red)[1].mean() + 0.5 - u_expected) < 1.0
    assert abs(np.nonzero(red)[0].mean() + 0.5 - intr.cy) < 1.0
    # Turning 90 degrees looks away from the wall: nothing to see.
    assert not mem.render(look_pose(yaw_deg=90), intr).mask.any()


def test_renders_latents_of_any_channel_count():
    rng = np.random.default_rng(4)
    _, depth = random_view(rng)
    latents = rng.normal(size=(INTR.height, INTR.width, 4)).astype(np.float32)
    mem = SceneMemory()
    mem.add_view(latents, depth, INTR, np.eye(4))
    out = mem.render(np.eye(4), INTR)
    assert out.image.dtype == np.float32 and out.image.shape == (INTR.height, INTR.width, 4)
    np.testing.assert_array_equal(out.image[out.mask], latents[out.mask])


def test_device_memory_returns_tensors():
    rng = np.random.default_rng(5)
    rgb, depth = random_view(rng)
    mem = SceneMemory(device="cpu")
    mem.add_view(rgb, depth, INTR, np.eye(4))
    host = SceneMemory()
    host.add_view(rgb, depth, INTR, np.eye(4))
    c2w = look_pose(x=0.1, yaw_deg=3)
    out, ref = mem.render(c2w, INTR), host.render(c2w, INTR)
    assert isinstance(out.image, torch.Tensor)
    np.testing.assert_array_equal(out.image.numpy(), ref.image)
    np.testing.assert_array_equal(out.depth.numpy(), ref.depth)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_memory_matches_host():
    rng = np.random.default_rng(6)
    rgb, depth = random_view(rng)
    mem, host = SceneMemory(device="cuda"), SceneMemory()
    for m in (mem, host):
        m.add_view(rgb, depth, INTR, np.eye(4))
    c2w = look_pose(x=0.2, yaw_deg=5)
    out, ref = mem.render(c2w, INTR, point_radius_px=1), host.render(c2w, INTR, point_radius_px=1)
    assert out.image.device.type == "cuda"
    np.testing.assert_array_equal(out.image.cpu().numpy(), ref.image)
    np.testing.assert_array_equal(out.depth.cpu().numpy(), ref.depth)


# -------------------------------------------------------------- de-duplication
def test_revisiting_a_place_does_not_grow_the_memory():
    rng = np.random.default_rng(7)
    rgb, _ = random_view(rng)
    depth = wall_depth(INTR, 3.0)
    mem = SceneMemory(voxel_size=0.05)
    first = mem.add_view(rgb, depth, INTR, np.eye(4))
    assert first == INTR.width * INTR.height  # the first view is added in full
    assert mem.add_view(rgb, depth, INTR, np.eye(4)) == 0  # the same view again: nothing
    assert mem.num_views == 1
    # A slightly moved camera on the same wall adds only a thin border of new voxels.
    moved = mem.add_view(rgb, wall_depth(INTR, 2.98), INTR, look_pose(x=0.02, z=0.02))
    assert moved < 0.05 * first
    # A reference view is always added in full.
    assert mem.add_view(rgb, depth, INTR, np.eye(4), reference=True) == first


def test_a_new_region_is_added_at_full_density():
    rng = np.random.default_rng(8)
    rgb, _ = random_view(rng)
    mem = SceneMemory(voxel_size=0.05)
    mem.add_view(rgb, wall_depth(INTR, 3.0), INTR, np.eye(4))
    # Looking the other way at another wall: every pixel is new.
    added = mem.add_view(rgb, wall_depth(INTR, 3.0), INTR, look_pose(yaw_deg=180))
    assert added == INTR.width * INTR.height
    # Half overlapping view: about half is new (the overlap voxels are already occupied).
    half = mem.add_view(rgb, wall_depth(INTR, 3.0), INTR, look_pose(x=3.0 * np.tan(
        np.radians(35.0))))
    assert 0.4 < half / added < 0.6


def test_keyframe_points_are_not_deduplicated_among_themselves():
    # A wall so far away that many pixels share a voxel: all are still added.
    mem = SceneMemory(voxel_size=0.5)
    rgb = np.zeros((INTR.height, INTR.width, 3), np.uint8)
    assert mem.add_view(rgb, wall_depth(INTR, 2.0), INTR, np.eye(4)) == INTR.width * INTR.height
    assert mem.num_voxels < mem.num_points / 4


# -------------------------------------------------------------------- eviction
def test_oldest_keyframes_are_evicted_first_and_reference_views_last():
    rgb = np.zeros((INTR.height, INTR.width, 3), np.uint8)
    per_view = INTR.width * INTR.height
    mem = SceneMemory(voxel_size=0.05, max_points=3 * per_view)
    views = [look_pose(yaw_deg=a) for a in (0, 90, 180, 270)]  # four separate walls
    mem.add_view(rgb, wall_depth(INTR, 3.0), INTR, views[0], reference=True)  # id 0
    mem.add_view(rgb, wall_depth(INTR, 3.0), INTR, views[1])  # id 1
    mem.add_view(rgb, wall_depth(INTR, 3.0), INTR, views[2])  # id 2
    assert [v.view_id for v in mem.views] == [0, 1, 2] and mem.num_points == 3 * per_view
    mem.add_view(rgb, wall_depth(INTR, 3.0), INTR, views[3])  # id 3: evicts keyframe 1
    assert [v.view_id for v in mem.views] == [0, 2, 3]
    assert [v.reference for v in mem.views] == [True, False, False]
    assert mem.num_points == 3 * per_view
    # The evicted wall is empty now, and its voxels were released: seeing it again adds it
    # in full (evicting keyframe 2, the oldest one).
    assert not mem.render(views[1], INTR).mask.any()
    assert mem.add_view(rgb, wall_depth(INTR, 3.0), INTR, views[1]) == per_view
    assert [v.view_id for v in mem.views] == [0, 3, 4]
    assert mem.render(views[1], INTR).mask.all()
    # The reference view goes only when no keyframe is left.
    small = SceneMemory(voxel_size=0.05, max_points=per_view)
    small.add_view(rgb, wall_depth(INTR, 3.0), INTR, views[0], reference=True)
    small.add_view(rgb, wall_depth(INTR, 3.0), INTR, views[1])
    assert [v.view_id for v in small.views] == [1] and small.num_points == per_view


def test_revisit_at_capacity_keeps_what_the_camera_sees():
    rgb = np.zeros((INTR.height, INTR.width, 3), np.uint8)
    per_view = INTR.width * INTR.height
    mem = SceneMemory(voxel_size=0.05, max_points=2 * per_view)
    mem.add_view(rgb, wall_depth(INTR, 3.0), INTR, look_pose(yaw_deg=0))
    mem.add_view(rgb, wall_depth(INTR, 3.0), INTR, look_pose(yaw_deg=180))
    # Full; looking at the first (oldest) wall again evicts it and re-adds it in full.
    assert mem.add_view(rgb, wall_depth(INTR, 3.0), INTR, look_pose(yaw_deg=0)) == per_view
    assert mem.render(look_pose(yaw_deg=0), INTR).mask.all()
    assert mem.num_points <= 2 * per_view


def test_a_view_larger_than_capacity_is_subsampled():
    rgb = np.zeros((INTR.height, INTR.width, 3), np.uint8)
    mem = SceneMemory(max_points=1000)
    assert mem.add_view(rgb, wall_depth(INTR, 3.0), INTR, np.eye(4)) == 1000
    assert mem.num_points == 1000


def test_voxel_counter_matches_a_multiset():
    rng = np.random.default_rng(9)
    counter, ref = VoxelCounter(16), collections.Counter()
    stored: list[np.ndarray] = []
    for step in range(60):
        if stored and rng.random() < 0.4:
            keys = stored.pop(int(rng.integers(len(stored))))
            counter.remove(keys)
            ref.subtract(keys.tolist())
        else:
            keys = rng.integers(0, 3000, int(rng.integers(1, 400))).astype(np.int64)
            counter.add(keys)
            ref.update(keys.tolist())
            stored.append(keys)
        probe = np.arange(3000, dtype=np.int64)
        np.testing.assert_array_equal(counter.occupied(probe),
                                      [ref[k] > 0 for k in range(3000)], err_msg=f"step {step}")
        assert len(counter) == sum(1 for v in ref.values() if v > 0)
    with pytest.raises(RuntimeError):
        counter.remove(np.array([10**9], np.int64))


def test_voxel_keys_floor_per_axis():
    pts = np.array([[0.0, 0.0, 0.0], [0.049, 0.0, 0.0], [0.05, 0.0, 0.0], [-0.001, 0.0, 0.0]],
                   np.float32)
    k = voxel_keys(pts, 0.05)
    assert k[0] == k[1] and len(set(k.tolist())) == 3


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize("kwargs,message", [
    (dict(rgb=np.zeros((64, 96), np.uint8)), "rgb must be \\[H, W, C\\]"),
    (dict(rgb=np.zeros((64, 96, 3), np.complex64)), "rgb must have a real dtype"),
    (dict(rgb=[[1, 2, 3]]), "rgb must be a numpy array"),
    (dict(depth=np.zeros((64, 96), np.uint16)), "depth must be floating point"),
    (dict(depth=np.zeros((64, 95), np.float32)),
     "depth is \\[64, 95\\] but rgb is \\[64, 96, 3\\]"),
    (dict(depth=np.zeros((2, 64, 96), np.float32)), "depth must be \\[H, W\\]"),
    (dict(K=Intrinsics.from_horizontal_fov(70.0, 128, 64)), "intrinsics are for a 128x64"),
    (dict(K=np.eye(2)), "K must be \\[3, 3\\]"),
    (dict(c2w=np.diag([2.0, 1, 1, 1])), "rotation is not rigid"),
    (dict(c2w=np.eye(3)), "c2w must have 16 values"),
])
def test_add_view_bad_inputs(kwargs, message):
    args = dict(rgb=np.zeros((64, 96, 3), np.uint8), depth=np.ones((64, 96), np.float32),
                K=INTR, c2w=np.eye(4))
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        SceneMemory().add_view(args["rgb"], args["depth"], args["K"], args["c2w"])


def test_memory_rejects_a_second_colour_type_and_bad_settings():
    mem = SceneMemory()
    mem.add_view(np.zeros((64, 96, 3), np.uint8), np.ones((64, 96), np.float32), INTR, np.eye(4))
    with pytest.raises(ValueError, match="rgb is float32 with 3 channels but this memory holds "
                                         "uint8 with 3"):
        mem.add_view(np.zeros((64, 96, 3), np.float32), np.ones((64, 96), np.float32), INTR,
                     np.eye(4))
    with pytest.raises(ValueError, match="height and width are required"):
        mem.render(np.eye(4), INTR.K)
    with pytest.raises(PoseError):
        mem.render(np.full((4, 4), np.nan), INTR)
    with pytest.raises(ValueError, match="voxel_size must be a finite number > 0"):
        SceneMemory(voxel_size=0.0)
    with pytest.raises(ValueError, match="max_points must be > 0"):
        SceneMemory(max_points=0)


def test_render_of_empty_memory_and_unproject_without_valid_pixels():
    out = SceneMemory().render(np.eye(4), INTR)
    assert out.image.shape == (64, 96, 3) and not out.mask.any()
    points, pixels = unproject_depth(np.zeros((4, 5), np.float32), np.eye(3), np.eye(4))
    assert points.shape == (0, 3) and pixels.shape == (0,)


def test_memory_render_equals_render_points():
    rng = np.random.default_rng(10)
    rgb, depth = random_view(rng)
    mem = SceneMemory()
    mem.add_view(rgb, depth, INTR, np.eye(4))
    c2w = random_pose(rng, 0.3)
    a = mem.render(c2w, INTR.K, 50, 70)
    b = render_points(mem.points, mem.colors, invert_rigid(c2w), INTR.K, 50, 70)
    np.testing.assert_array_equal(a.image, b.image)
    assert not mem.points.flags.writeable
