"""Training clips: references, anchors, resizing, reproducibility, DDP sharding, loaders.

The recordings are synthetic and exact: a ray caster renders a textured wall, floor and box
(OpenCV world, metres) with per-pixel planar depth, and DatasetWriter stores them.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from worldbridge.geometry import Convention, Intrinsics, invert_rigid
from worldbridge.memory import unproject_depth
from worldbridge.recording import DatasetWriter, load_dataset
from worldbridge.render import render_points
from worldbridge.training.clips import (
    ClipDataset,
    ClipSpec,
    crop_resize,
    crop_resize_intrinsics,
)
from worldbridge.training.data import collate_clips, make_dataloader

# ----------------------------------------------------------------------------- scenes


def _planes_hit(origin, dirs):
    """Nearest hit of rays with the scene: wall z=6 (|x|<4, y>-2; above it nothing: sky),
    floor y=1.5 (|x|<4, z<6), box x in [-0.6, 0.4], y in [0.5, 1.5], z in [3, 3.8].
    Returns (t, point)."""
    t = np.full(len(dirs), np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        tw = (6.0 - origin[2]) / dirs[:, 2]
        pw = origin + tw[:, None] * dirs
        ok = (tw > 0) & (np.abs(pw[:, 0]) < 4) & (pw[:, 1] > -2)
        t = np.where(ok & (tw < t), tw, t)
        tf = (1.5 - origin[1]) / dirs[:, 1]
        pf = origin + tf[:, None] * dirs
        ok = (tf > 0) & (np.abs(pf[:, 0]) < 4) & (pf[:, 2] < 6)
        t = np.where(ok & (tf < t), tf, t)
        lo, hi = np.array([-0.6, 0.5, 3.0]), np.array([0.4, 1.5, 3.8])
        t1, t2 = (lo - origin) / dirs, (hi - origin) / dirs
        tn = np.max(np.minimum(t1, t2), axis=1)
        tx = np.min(np.maximum(t1, t2), axis=1)
        tb = np.where((tn <= tx) & (tn > 0), tn, np.inf)
        t = np.minimum(t, tb)
    return t, origin + np.where(np.isfinite(t), t, 0)[:, None] * dirs


def _texture(p):
    cell = np.floor(p / 0.2).astype(np.int64)
    h = (cell[:, 0] * 73856093) ^ (cell[:, 1] * 19349663) ^ (cell[:, 2] * 83492791)
    rgb = np.stack([(h >> s) & 255 for s in (0, 8, 16)], axis=1)
    return (0.5 * rgb + 60 + 30 * np.sin(p * 3.0)).clip(0, 255).astype(np.uint8)


def ray_cast(c2w, k: Intrinsics):
    """``(rgb [H, W, 3] uint8, depth [H, W] float32 planar z, 0 = sky)`` at an OpenCV camera."""
    u, v = np.meshgrid(np.arange(k.width) + 0.5, np.arange(k.height) + 0.5)
    cam = np.stack([(u - k.cx) / k.fx, (v - k.cy) / k.fy, np.ones_like(u)], -1).reshape(-1, 3)
    dirs = cam @ c2w[:3, :3].T  # camera z = 1: ray parameter t is the planar depth
    t, p = _planes_hit(c2w[:3, 3], dirs)
    hit = np.isfinite(t)
    rgb = np.where(hit[:, None], _texture(p), np.array([135, 190, 235], np.uint8))
    depth = np.where(hit, t, 0.0).astype(np.float32)
    return rgb.reshape(k.height, k.width, 3).astype(np.uint8), depth.reshape(k.height, k.width)


def pose(x, y, z, yaw_deg=0.0):
    a = math.radians(yaw_deg)
    m = np.eye(4)
    m[:3, :3] = [[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]]
    m[:3, 3] = [x, y, z]
    return m


def write(root, name, frames, k, render=ray_cast):
    with DatasetWriter(root, name, num_workers=1) as w:
        for i, c2w in enumerate(frames):
            rgb, depth = render(c2w, k)
            w.add_frame(rgb, depth, k, c2w, c2w, Convention.OPENCV, i, i)
    return root / name


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    root = tmp_path_factory.mktemp("clips")
    k = Intrinsics.from_vertical_fov(60.0, 48, 48)
    walk = [pose(0.02 * i, -0.1, 0.01 * i, 0.4 * i) for i in range(40)]
    other = [pose(-0.5 + 0.015 * i, 0.0, 0.3, -0.3 * i) for i in range(24)]
    return [write(root, "walk", walk, k), write(root, "other", other, k)]


SPEC = ClipSpec(image_size=32, anchor_mask_prob=0.25)


@pytest.fixture(scope="module")
def clips(recordings):
    return ClipDataset(recordings, SPEC, seed=3)


# ----------------------------------------------------------------------------- items


def test_spec_validation_and_json_round_trip():
    spec = ClipSpec(frame_stride=(2, 4), targets_per_clip=5, image_size=64)
    assert ClipSpec.from_dict(spec.to_dict()) == spec
    assert spec.num_targets == 5 and ClipSpec().num_targets == 12 and ClipSpec().min_span == 16
    for bad in (dict(clip_len=1), dict(num_references=16), dict(num_references=0),
                dict(frame_stride=(3, 2)), dict(frame_stride=(0, 1)), dict(image_size=0),
                dict(anchor_mask_prob=1.5), dict(targets_per_clip=13), dict(window_step=0),
                dict(point_radius_px=-1)):
        with pytest.raises(ValueError):
            ClipSpec(**bad)
    with pytest.raises(ValueError, match="unknown ClipSpec fields"):
        ClipSpec.from_dict({"clip_length": 16})


def test_windows_and_errors(recordings, tmp_path):
    ds = ClipDataset(recordings, SPEC)
    # walk: 40 frames, starts 0, 8, 16, 24 (24 + 15 = 39); other: 24 frames, starts 0, 8
    assert [tuple(w) for w in ds.windows] == [(0, 0), (0, 8), (0, 16), (0, 24), (1, 0), (1, 8)]
    with pytest.raises(ValueError, match="frames one clip needs"):
        ClipDataset(recordings[1], ClipSpec(frame_stride=(2, 3)))
    with pytest.raises(ValueError, match="at least one recording"):
        ClipDataset([], SPEC)
    k = Intrinsics.from_vertical_fov(60.0, 16, 16)
    with DatasetWriter(tmp_path, "nodepth", num_workers=1) as w:
        for i in range(16):
            w.add_frame(np.zeros((16, 16, 3), np.uint8), None, k, np.eye(4), np.eye(4),
                        Convention.OPENCV, i, i)
    with pytest.raises(ValueError, match="without depth"):
        ClipDataset(tmp_path / "nodepth", SPEC)
    with pytest.raises(IndexError):
        ds.plan(len(ds))


def test_item_shapes_dtypes_ranges(clips):
    item = clips[1]
    t, s = 12, 32
    shapes = {"target_rgb": [t, 3, s, s], "anchor_rgb": [t, 3, s, s], "anchor_mask": [t, 1, s, s],
              "anchor_keep": [t], "reference_rgb": [t, 3, s, s], "target_w2c": [t, 4, 4],
              "target_K": [t, 3, 3], "reference_w2c": [t, 4, 4], "reference_K": [t, 3, 3],
              "reference_scale": [t], "target_depth": [t, 1, s, s], "target_frame_index": [t],
              "reference_frame_index": [4], "target_reference": [t], "clip_index": [],
              "dataset_index": [], "stride": [], "sample_seed": []}
    assert set(item) == set(shapes)
    for key, shape in shapes.items():
        assert list(item[key].shape) == shape, key
    for key in ("target_rgb", "anchor_rgb", "reference_rgb", "anchor_mask", "target_w2c",
                "target_K", "reference_w2c", "reference_K", "target_depth"):
        assert item[key].dtype == torch.float32, key
    assert item["anchor_keep"].dtype == torch.bool
    for key in ("target_rgb", "anchor_rgb", "reference_rgb"):
        assert item[key].min() >= -1 and item[key].max() <= 1
    mask = item["anchor_mask"]
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    holes = (mask == 0).expand(-1, 3, -1, -1)
    assert torch.all(item["anchor_rgb"][holes] == 0)  # the trainer applies the model's hole value
    # each target's scene scale is the median valid depth of its own reference frame
    refs = item["reference_frame_index"][item["target_reference"]]
    for i, f in enumerate(refs.tolist()):
        _, depth, _ = crop_resize(clips.datasets[int(item["dataset_index"])].read_rgb(f),
                                  clips.datasets[int(item["dataset_index"])].read_depth(f),
                                  clips.datasets[int(item["dataset_index"])][f].intrinsics, s)
        assert float(item["reference_scale"][i]) == pytest.approx(float(np.median(depth[depth > 0])), rel=1e-6)
    assert item["target_depth"].min() >= 0 and item["target_depth"].max() < 10
    assert int(item["clip_index"]) == 1
    # the sky (depth 0) is in the images: the top rows see above the wall
    assert (item["target_depth"] == 0).any()
    assert torch.allclose(item["target_K"][:, 2], torch.tensor([0.0, 0.0, 1.0]))


def _reference_cloud(ds, frames, size):
    points, colors = [], []
    for f in frames:
        rgb, depth, k = crop_resize(ds.read_rgb(f), ds.read_depth(f), ds[f].intrinsics, size)
        p, pix = unproject_depth(depth, k, ds[f].c2w_cv)
        points.append(p)
        colors.append(rgb.reshape(-1, 3)[pix])
    return np.concatenate(points), np.concatenate(colors)


def test_anchor_is_the_render_of_the_reference_cloud(clips):
    item = clips[0]
    ds = load_dataset(clips.datasets[int(item["dataset_index"])].path)
    points, colors = _reference_cloud(ds, item["reference_frame_index"].tolist(), 32)
    coverage = []
    for i, frame in enumerate(item["target_frame_index"].tolist()):
        rgb, depth, k = crop_resize(ds.read_rgb(frame), ds.read_depth(frame),
                                    ds[frame].intrinsics, 32)
        w2c = invert_rigid(ds[frame].c2w_cv)
        r = render_points(points, colors, w2c, k.K, 32, 32)
        expect = np.where(r.mask[..., None], r.image / 127.5 - 1.0, 0.0).transpose(2, 0, 1)
        np.testing.assert_allclose(item["anchor_rgb"][i].numpy(), expect, atol=1e-6)
        np.testing.assert_array_equal(item["anchor_mask"][i, 0].numpy(), r.mask)
        np.testing.assert_allclose(item["target_w2c"][i].numpy(), w2c, atol=1e-6)
        np.testing.assert_allclose(item["target_K"][i].numpy(), k.K, atol=1e-6)
        np.testing.assert_allclose(item["target_rgb"][i].numpy(),
                                   rgb.transpose(2, 0, 1) / 127.5 - 1, atol=1e-6)
        np.testing.assert_array_equal(item["target_depth"][i, 0].numpy(), depth)
        coverage.append(r.mask[depth > 0].mean())  # of the pixels that see a surface
    # small motions between references: the cloud covers nearly every surface pixel
    assert min(coverage) > 0.85 and np.mean(coverage) > 0.93
    # where covered, the anchor looks like the target (same surface, same texture)
    m = item["anchor_mask"].bool().expand(-1, 3, -1, -1)
    err = (item["anchor_rgb"] - item["target_rgb"]).abs()[m].mean()
    shifted = (item["anchor_rgb"] - item["target_rgb"].roll(4, dims=3)).abs()[m].mean()
    assert err < 0.1 and shifted > 2.5 * err


def test_zero_depth_as_sky(recordings):
    plain = ClipDataset(recordings[0], ClipSpec(image_size=32, shuffle_references=False))[0]
    sky = ClipDataset(recordings[0], ClipSpec(image_size=32, shuffle_references=False,
                                              zero_depth_is_sky=True))[0]
    seen_sky = sky["target_depth"] == 0
    assert seen_sky.float().mean() > 0.05
    assert plain["anchor_mask"][seen_sky].mean() < 0.05  # holes: 0 depth is not lifted
    covered = sky["anchor_mask"][seen_sky] > 0
    assert covered.float().mean() > 0.9  # far away: the sky stays in place
    colour = torch.tensor([135, 190, 235]) / 127.5 - 1
    sky_px = sky["anchor_rgb"].permute(0, 2, 3, 1)[seen_sky[:, 0] & (sky["anchor_mask"][:, 0] > 0)]
    exact = (sky_px - colour).abs().max(dim=1).values < 1e-6
    assert exact.float().mean() > 0.9  # the rest: pixels on the skyline, blended by resizing
    # surfaces render the same either way (sky points are behind everything)
    both = (plain["anchor_mask"] > 0).expand(-1, 3, -1, -1)
    assert torch.equal(plain["anchor_rgb"][both], sky["anchor_rgb"][both])


def test_each_target_gets_its_temporally_closest_reference(clips):
    ds = clips.datasets[0]
    for index in range(len(clips)):
        plan = clips.plan(index)
        item = clips.load(plan) if index < 2 else None
        refs_t = plan.frames[plan.reference_positions]
        for j, tpos in enumerate(plan.target_positions):
            dist = np.abs(plan.reference_positions - tpos)
            assert dist[plan.target_reference[j]] == dist.min()
        assert len(set(plan.reference_positions.tolist())) == 4
        assert not set(plan.reference_positions) & set(plan.target_positions)
        if item is None:
            continue
        for j in range(12):
            ref_frame = int(refs_t[plan.target_reference[j]])
            tgt_frame = int(item["target_frame_index"][j])
            assert abs(tgt_frame - ref_frame) == min(abs(tgt_frame - refs_t))
            rgb, _, k = crop_resize(ds.read_rgb(ref_frame), ds.read_depth(ref_frame),
                                    ds[ref_frame].intrinsics, 32)
            np.testing.assert_allclose(item["reference_rgb"][j].numpy(),
                                       rgb.transpose(2, 0, 1) / 127.5 - 1, atol=1e-6)
            np.testing.assert_allclose(item["reference_w2c"][j].numpy(),
                                       invert_rigid(ds[ref_frame].c2w_cv), atol=1e-6)
            np.testing.assert_allclose(item["reference_K"][j].numpy(), k.K, atol=1e-6)


def test_reference_layouts(recordings):
    # without shuffling: evenly spread, in time order
    ds = ClipDataset(recordings[1], ClipSpec(shuffle_references=False, frame_stride=(1, 1)))
    plan = ds.plan(0)
    fixed = np.array([0, 5, 10, 15])
    np.testing.assert_array_equal(plan.reference_positions, fixed)
    np.testing.assert_array_equal(plan.frames, np.arange(16))
    np.testing.assert_array_equal(fixed[plan.target_reference],
                                  [0, 0, 5, 5, 5, 5, 10, 10, 10, 10, 15, 15])
    # a target midway between two references goes to the earlier one
    ds = ClipDataset(recordings[1], ClipSpec(clip_len=9, num_references=3, frame_stride=(1, 1),
                                             shuffle_references=False))
    plan = ds.plan(0)
    np.testing.assert_array_equal(plan.reference_positions, [0, 4, 8])
    np.testing.assert_array_equal(plan.target_positions, [1, 2, 3, 5, 6, 7])
    np.testing.assert_array_equal(plan.target_reference, [0, 0, 1, 1, 1, 2])
    # shuffled: one reference per quarter of the clip, lifted in varying orders, ties random
    ds = ClipDataset(recordings[1], ClipSpec(frame_stride=(1, 1)))
    orders, tie_choices = set(), set()
    for epoch in range(40):
        ds.set_epoch(epoch)
        plan = ds.plan(0)
        pos = np.sort(plan.reference_positions)
        assert [p // 4 for p in pos] == [0, 1, 2, 3]
        orders.add(tuple(plan.reference_positions))
        for j, t in enumerate(plan.target_positions):
            dist = np.abs(plan.reference_positions - t)
            if (dist == dist.min()).sum() == 2:
                tie_choices.add((tuple(pos), int(t),
                                 int(plan.reference_positions[plan.target_reference[j]])))
    assert len(orders) > 30
    ties = {}
    for refs, t, chosen in tie_choices:
        ties.setdefault((refs, t), set()).add(chosen)
    assert any(len(c) == 2 for c in ties.values())  # both sides of a tie get chosen


def test_intrinsics_after_crop_and_resize_map_points_to_their_pixels(tmp_path):
    # An off-centre camera on a 80x48 image; a bright 0.3 m square on a dark wall z = 4.
    k = Intrinsics(50.0, 52.0, 43.0, 22.5, 80, 48)
    centre = np.array([0.1, -0.05, 4.0])

    def render(c2w, kk):  # exact area coverage of each pixel by the projected square
        t = 4.0 - c2w[2, 3]
        u0, u1 = ((centre[0] + np.array([-0.15, 0.15]) - c2w[0, 3]) / t) * kk.fx + kk.cx
        v0, v1 = ((centre[1] + np.array([-0.15, 0.15]) - c2w[1, 3]) / t) * kk.fy + kk.cy
        cols, rows = np.arange(kk.width), np.arange(kk.height)
        cu = np.clip(np.minimum(cols + 1, u1) - np.maximum(cols, u0), 0, 1)
        cv = np.clip(np.minimum(rows + 1, v1) - np.maximum(rows, v0), 0, 1)
        img = cv[:, None] * cu[None, :]
        rgb = np.repeat((20 + 200 * img)[..., None], 3, axis=2).round().astype(np.uint8)
        return rgb, np.full((kk.height, kk.width), t, np.float32)

    frames = [pose(0.01 * i - 0.1, 0.005 * i, 0.0) for i in range(16)]
    path = write(tmp_path, "marker", frames, k, render)
    item = ClipDataset(path, ClipSpec(image_size=36, frame_stride=(1, 1)))[0]
    for i in range(12):
        img = (item["target_rgb"][i, 0].double().numpy() + 1) * 127.5 - 20
        v, u = np.mgrid[0:36, 0:36] + 0.5
        got = np.array([(img * u).sum(), (img * v).sum()]) / img.sum()
        p = item["target_w2c"][i].double().numpy() @ np.append(centre, 1.0)
        uvw = item["target_K"][i].double().numpy() @ p[:3]
        np.testing.assert_allclose(got, uvw[:2] / uvw[2], atol=0.05)
    np.testing.assert_allclose(item["target_depth"], 4.0, atol=1e-3)
    # the same numbers by hand: crop 16 columns on the left, then scale by 36/48
    kk = crop_resize_intrinsics(k, 36)
    np.testing.assert_allclose([kk.fx, kk.fy, kk.cx, kk.cy], [37.5, 39.0, 20.25, 16.875])
    assert (kk.width, kk.height) == (36, 36)


def test_crop_resize_pixel_centres():
    # A ramp whose value is the source column: each output pixel averages the columns it
    # covers, i.e. the source coordinate of its centre, minus 0.5.
    w, h, size = 90, 60, 40
    ramp = np.tile(np.arange(w, dtype=np.float32), (h, 1))
    rgb = np.repeat(np.tile(np.arange(w, dtype=np.uint8), (h, 1))[..., None], 3, axis=2)
    k = Intrinsics(70.0, 70.0, 45.0, 30.0, w, h)
    out, depth, kk = crop_resize(rgb, ramp, k, size)
    assert out.shape == (size, size, 3) and depth.shape == (size, size)
    scale = 60 / size
    centres = (np.arange(size) + 0.5) * scale + 15  # source u of each output centre
    np.testing.assert_allclose(out[0, :, 0], centres - 0.5, atol=0.51)  # uint8 rounding
    np.testing.assert_array_equal(depth[0], np.floor(centres))  # nearest: the covering pixel
    np.testing.assert_allclose(kk.cx, (45.0 - 15) / scale)
    with pytest.raises(ValueError, match="intrinsics"):
        crop_resize(rgb[:10], None, k, size)


# ----------------------------------------------------------------------------- randomness


def _equal(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_reproducible_and_seed_dependent(recordings, clips):
    again = ClipDataset(recordings, SPEC, seed=3)
    assert _equal(clips[2], again[2])
    other = ClipDataset(recordings, SPEC, seed=4)
    plans = [(clips.plan(i), other.plan(i)) for i in range(len(clips))]
    assert any(a.stride != b.stride or not np.array_equal(a.reference_positions,
                                                          b.reference_positions)
               for a, b in plans)
    assert not _equal(clips[2], other[2]) or not _equal(clips[0], other[0])
    # epochs: new choices, and back to the old ones
    e0 = clips.plan(0)
    clips.set_epoch(1)
    e1 = clips.plan(0)
    clips.set_epoch(0)
    assert not (np.array_equal(e0.reference_positions, e1.reference_positions)
                and e0.stride == e1.stride and np.array_equal(e0.anchor_keep, e1.anchor_keep))
    assert np.array_equal(clips.plan(0).reference_positions, e0.reference_positions)


def test_anchor_keep_rate_and_strides(clips):
    keeps, strides = [], set()
    for epoch in range(150):
        clips.set_epoch(epoch)
        for i in range(len(clips)):
            plan = clips.plan(i)
            keeps.append(plan.anchor_keep)
            strides.add((int(clips.windows[i][0]), int(clips.windows[i][1]), plan.stride))
    clips.set_epoch(0)
    rate = 1.0 - np.concatenate(keeps).mean()  # 10800 draws
    assert abs(rate - 0.25) < 0.02
    # walk (40 frames): start 0 fits strides 1 and 2 (0 + 15 * 2 = 30 <= 39), start 24 only 1
    assert {s for d, st, s in strides if (d, st) == (0, 0)} == {1, 2}
    assert {s for d, st, s in strides if (d, st) == (0, 24)} == {1}


def test_targets_per_clip_subsets(recordings):
    spec = ClipSpec(image_size=16, targets_per_clip=5)
    ds = ClipDataset(recordings, spec, seed=1)
    item = ds[0]
    assert item["target_rgb"].shape == (5, 3, 16, 16)
    idx = item["target_frame_index"]
    assert torch.all(idx[1:] > idx[:-1])


# ----------------------------------------------------------------------------- loaders


def test_collate_flattens_clips_into_triples(clips):
    batch = [clips[0], clips[4]]
    out = collate_clips(batch)
    assert out["target_rgb"].shape == (24, 3, 32, 32)
    assert out["clip_index"].tolist() == [0] * 12 + [4] * 12
    assert out["triple_clip"].tolist() == [0] * 12 + [1] * 12
    assert torch.equal(out["anchor_rgb"][12:], batch[1]["anchor_rgb"])
    assert out["reference_frame_index"].shape == (2, 4)
    sub = collate_clips(batch, targets_per_clip=3)
    assert sub["target_rgb"].shape == (6, 3, 32, 32)
    for c in range(2):
        rows = sub["target_frame_index"][3 * c:3 * c + 3]
        pos = [batch[c]["target_frame_index"].tolist().index(f) for f in rows.tolist()]
        assert pos == sorted(pos)
        for key in ("target_rgb", "anchor_rgb", "reference_w2c", "anchor_keep"):
            assert torch.equal(sub[key][3 * c:3 * c + 3], batch[c][key][pos])
    assert torch.equal(collate_clips(batch, targets_per_clip=3)["target_rgb"], sub["target_rgb"])
    nested = collate_clips(batch, flatten=False)
    assert nested["target_rgb"].shape == (2, 12, 3, 32, 32) and nested["clip_index"].shape == (2,)
    with pytest.raises(ValueError):
        collate_clips([])


def test_distributed_sampler_splits_clips_between_ranks(clips):
    seen = []
    for rank in (0, 1):
        loader = make_dataloader(clips, batch_size=1, num_workers=0, seed=5, num_replicas=2,
                                 rank=rank, drop_last=False)
        assert loader.sampler.num_replicas == 2
        seen.append(sorted(int(i) for i in loader.sampler))
    assert len(seen[0]) == len(seen[1]) == 3
    assert sorted(seen[0] + seen[1]) == list(range(6))  # disjoint, together every clip
    with pytest.raises(ValueError, match="process group"):
        make_dataloader(clips, 1, num_workers=0, distributed=True)
    with pytest.raises(ValueError, match="rank"):
        make_dataloader(clips, 1, num_workers=0, num_replicas=2, rank=2)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("context", [None, "fork"])
def test_dataloader_workers_match_in_process_loading(recordings, context):
    import cv2

    # Use OpenCV's thread pool in this process first: workers forked from it must not hang
    # (cv2.setNumThreads in such a child blocks forever).
    for _ in range(3):
        cv2.cvtColor(np.zeros((1024, 1024, 3), np.uint8), cv2.COLOR_BGR2RGB)
    ds = ClipDataset(recordings, ClipSpec(image_size=16, anchor_mask_prob=0.5), seed=9)
    serial = make_dataloader(ds, batch_size=2, num_workers=0, seed=1, drop_last=False)
    workers = make_dataloader(ds, batch_size=2, num_workers=2, seed=1, drop_last=False,
                              targets_per_clip=4, multiprocessing_context=context)
    first = None
    for epoch in (0, 1):  # persistent workers must follow set_epoch
        serial.set_epoch(epoch)
        workers.set_epoch(epoch)
        a = list(serial)
        b = list(workers)
        assert len(a) == len(b) == 3
        for x, y in zip(a, b):
            assert y["target_rgb"].shape == (8, 3, 16, 16)
            ref = collate_clips([ds[int(i)] for i in x["clip_index"].unique_consecutive()],
                                targets_per_clip=4)
            for key in ref:
                assert torch.equal(ref[key], y[key]), key
        if first is None:
            first = a
    assert not all(torch.equal(p["anchor_keep"], q["anchor_keep"]) and
                   torch.equal(p["clip_index"], q["clip_index"]) for p, q in zip(first, a))
