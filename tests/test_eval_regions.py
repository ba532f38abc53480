"""Extrapolation metrics: regions from ground-truth geometry, pooled per-region scores,
border-aware SSIM, gradient-energy ratio, masked warping error and the Telea baseline.

The main scene is analytic: a fronto-parallel wall 4 m away and a square plate (or a box)
2 m away, seen by 160 x 96 cameras with f = 80 px. A camera moved sideways by t metres
shifts the wall by 20 t and the plate by 40 t pixels, so with t a multiple of 0.05 every
pixel centre of one view lands on a pixel centre of the other and the regions are exact
pixel sets.
"""

from __future__ import annotations

import math
import time

import cv2
import numpy as np
import pytest
import torch

from worldbridge.evaluation import (
    BASELINE_FILLS,
    COVERED,
    CRACK,
    DISOCCLUDED,
    INVALID,
    OUTSIDE,
    REGION_GROUPS,
    Region,
    RegionAccumulator,
    as_image_batch,
    border_ssim_map,
    classify_regions,
    gaussian_window,
    gradient_energy,
    pooled_psnr,
    psnr,
    region_mask,
    ssim,
    ssim_map,
    telea_fill,
    warp_error,
)
from worldbridge.geometry import Intrinsics, invert_rigid
from worldbridge.memory import unproject_depth
from worldbridge.render import render_points

pytestmark = pytest.mark.usefixtures("one_torch_thread")


H, W, F = 96, 160, 80.0
K = np.array([[F, 0.0, W / 2], [0.0, F, H / 2], [0.0, 0.0, 1.0]])
WALL_Z = 4.0
PLATE = (-0.5, 0.5, -0.5, 0.5, 2.0, 2.0)  # x0, x1, y0, y1, z0, z1 (a box of no thickness)
BOX = (-0.5, 0.5, -0.5, 0.5, 2.0, 2.5)


def _pose(x: float = 0.0, yaw: float = 0.0, y: float = 0.0, z: float = 0.0) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    m = np.eye(4)
    m[:3, :3] = [[c, 0, s], [0, 1, 0], [-s, 0, c]]
    m[:3, 3] = [x, y, z]
    return m


def _raycast(c2w: np.ndarray, k: np.ndarray = K, h: int = H, w: int = W, box=PLATE,
             wall_z: float | None = WALL_Z, wall_min_y: float = -math.inf):
    """Planar depth (+inf where a ray escapes), world hit points and which surface was hit.

    The wall is the plane Z = wall_z for Y >= wall_min_y (OpenCV Y points down, so rows
    above the wall's top edge see sky); the box is axis-aligned.
    """
    rows, cols = np.meshgrid(np.arange(h) + 0.5, np.arange(w) + 0.5, indexing="ij")
    d_cam = np.stack([(cols - k[0, 2]) / k[0, 0], (rows - k[1, 2]) / k[1, 1], np.ones_like(cols)])
    d = np.einsum("ij,jhw->ihw", c2w[:3, :3], d_cam)  # camera z of d is 1: t = planar z
    o = c2w[:3, 3][:, None, None]
    depth = np.full((h, w), np.inf)
    surface = np.zeros((h, w), dtype=np.int8)  # 0 sky, 1 wall, 2 box
    if wall_z is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (wall_z - o[2]) / d[2]
        y_hit = o[1] + t * d[1]
        hit = (t > 0) & (y_hit >= wall_min_y)
        depth = np.where(hit, t, depth)
        surface[hit] = 1
    if box is not None:
        lo = np.array(box[0::2])[:, None, None]
        hi = np.array(box[1::2])[:, None, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            t1, t2 = (lo - o) / d, (hi - o) / d
        t_near = np.minimum(t1, t2).max(axis=0)
        t_far = np.maximum(t1, t2).min(axis=0)
        hit = (t_near <= t_far) & (t_near > 0) & (t_near < depth)
        depth = np.where(hit, t_near, depth)
        surface[hit] = 2
    points = o + depth * d
    return depth.astype(np.float32), points, surface


def _texture(points: np.ndarray, surface: np.ndarray, smooth: bool = True) -> np.ndarray:
    """A Lambertian texture of the world point: ``[3, H, W]`` float64 in [0, 1]."""
    x, y = points[0], points[1]
    if smooth:
        wall = np.stack([0.5 + 0.4 * np.sin(1.3 * x + 0.4 * y), 0.5 + 0.4 * np.cos(0.9 * y),
                         0.5 + 0.3 * np.sin(0.7 * x - 1.1 * y)])
        box = np.stack([0.3 + 0.2 * np.cos(3.0 * x), 0.6 + 0.3 * np.sin(2.0 * y),
                        np.full_like(x, 0.2)])
    else:  # a checkerboard of 5 cm cells: only exact resampling reproduces it
        cell = (np.floor(x / 0.05) + np.floor(y / 0.05)) % 2
        wall = np.stack([0.2 + 0.6 * cell, 0.5 + 0.0 * cell, 0.8 - 0.6 * cell])
        box = np.stack([0.9 - 0.5 * cell, 0.1 + 0.3 * cell, 0.4 + 0.0 * cell])
    out = np.where(surface == 2, box, wall)
    return np.where(surface == 0, 0.7, out)


def _anchor_mask(refs, target_c2w, k=K, h=H, w=W, radius=0):
    """Coverage of the reference views' point cloud rendered at the target (the real
    lifting and z-buffer renderer)."""
    pts = [unproject_depth(d, kk, c)[0] for d, kk, c in refs]
    points = np.concatenate(pts)
    colors = np.zeros((len(points), 1), dtype=np.uint8)
    r = render_points(points, colors, invert_rigid(target_c2w), k, h, w, point_radius_px=radius)
    return r.mask


def _block(rows: range, cols: range, h: int = H, w: int = W) -> np.ndarray:
    m = np.zeros((h, w), dtype=bool)
    m[rows.start:rows.stop, cols.start:cols.stop] = True
    return m


# --------------------------------------------------------------------------- regions


def test_plate_scene_gives_exact_region_sets():
    ref = (_raycast(_pose(0.0))[0], K, _pose(0.0))
    tgt_c2w = _pose(1.0)
    tgt_depth = _raycast(tgt_c2w)[0]
    mask = _anchor_mask([ref], tgt_c2w)
    labels = classify_regions(tgt_depth, K, tgt_c2w, [ref], mask)
    assert labels.shape == (H, W) and labels.dtype == np.uint8

    # The wall behind the plate, seen from the right: world x in (0, 1), y in (-1, 1).
    disoccluded = _block(range(28, 68), range(60, 80))
    # Wall beyond the reference's right image edge (world x > 4).
    outside = _block(range(0, H), range(140, W))
    np.testing.assert_array_equal(labels == DISOCCLUDED, disoccluded)
    np.testing.assert_array_equal(labels == OUTSIDE, outside)
    np.testing.assert_array_equal(labels == COVERED, ~(disoccluded | outside))
    assert not (labels == CRACK).any() and not (labels == INVALID).any()
    # The real renderer covers exactly what the geometry says the reference saw.
    np.testing.assert_array_equal(mask, labels == COVERED)


def test_a_second_reference_shrinks_the_holes_and_missed_pixels_are_cracks():
    ref_a = (_raycast(_pose(0.0))[0], K, _pose(0.0))
    ref_b = (_raycast(_pose(0.5))[0], K, _pose(0.5))
    tgt_c2w = _pose(1.0)
    tgt_depth = _raycast(tgt_c2w)[0]
    # Anchors built from the first reference only: what the second one sees is a crack.
    labels = classify_regions(tgt_depth, K, tgt_c2w, [ref_a, ref_b],
                              _anchor_mask([ref_a], tgt_c2w))
    # From x = 0.5 the plate hides the wall x in (-1.5, 0.5): only x < 0.5 stays hidden.
    np.testing.assert_array_equal(labels == DISOCCLUDED, _block(range(28, 68), range(60, 70)))
    np.testing.assert_array_equal(labels == OUTSIDE, _block(range(0, H), range(150, W)))
    np.testing.assert_array_equal(
        labels == CRACK, _block(range(28, 68), range(70, 80)) | _block(range(0, H),
                                                                        range(140, 150)))

    # Anchors from both references: all of that is covered; punched holes are cracks.
    mask = _anchor_mask([ref_a, ref_b], tgt_c2w)
    labels = classify_regions(tgt_depth, K, tgt_c2w, [ref_a, ref_b], mask)
    assert not (labels == CRACK).any()
    punched = mask.copy()
    punched[::7, ::5] = False
    labels2 = classify_regions(tgt_depth, K, tgt_c2w, [ref_a, ref_b], punched)
    np.testing.assert_array_equal(labels2 == CRACK, mask & ~punched)
    np.testing.assert_array_equal(labels2 == DISOCCLUDED, labels == DISOCCLUDED)
    # The reference order does not matter.
    labels3 = classify_regions(tgt_depth, K, tgt_c2w, [ref_b, ref_a], punched)
    np.testing.assert_array_equal(labels3, labels2)


def test_leaking_anchor_pixels_are_labelled_by_the_geometry():
    ref = (_raycast(_pose(0.0))[0], K, _pose(0.0))
    tgt_c2w = _pose(1.0)
    tgt_depth = _raycast(tgt_c2w)[0]
    exact = classify_regions(tgt_depth, K, tgt_c2w, [ref], _anchor_mask([ref], tgt_c2w))
    # 2-pixel splats grow the anchors into the disoccluded wall (the plate and the wall
    # points around the hole leak into it): the mask says covered, the geometry does not.
    fat = _anchor_mask([ref], tgt_c2w, radius=2)
    leak = fat & (exact == DISOCCLUDED)
    assert leak.sum() >= 2 * 40  # at least two columns of the hole
    labels = classify_regions(tgt_depth, K, tgt_c2w, [ref], fat)
    np.testing.assert_array_equal(labels, exact)
    # Even a mask that covers everything changes nothing but cracks.
    labels = classify_regions(tgt_depth, K, tgt_c2w, [ref], np.ones((H, W), dtype=bool))
    np.testing.assert_array_equal(labels, exact)
    # ... and a mask that covers nothing turns exactly the covered pixels into cracks.
    labels = classify_regions(tgt_depth, K, tgt_c2w, [ref], np.zeros((H, W), dtype=bool))
    np.testing.assert_array_equal(labels == CRACK, exact == COVERED)
    np.testing.assert_array_equal(labels != CRACK, exact != COVERED)


def test_the_side_of_a_box_is_disoccluded():
    """A box 0.5 m deep: moving right reveals its right face, hidden behind its front."""
    ref = (_raycast(_pose(0.0), box=BOX)[0], K, _pose(0.0))
    tgt_c2w = _pose(1.0)
    tgt_depth, _, surface = _raycast(tgt_c2w, box=BOX)
    labels = classify_regions(tgt_depth, K, tgt_c2w, [ref], _anchor_mask([ref], tgt_c2w))
    # The front face (z = 2) is columns 20..59; the right face x = 0.5 spans u = 80 - 40 / z
    # for z in (2, 2.5): columns 60..63 (a trapezoid, rows 48 +- 20 / z); the wall behind is
    # disoccluded from column 64.
    assert (surface[28:68, 20:60] == 2).all() and (surface[:, 64:] != 2).all()
    assert (surface[32:64, 60:64] == 2).all()
    np.testing.assert_array_equal(labels[28:68, 20:60], COVERED)
    side = (surface == 2) & (np.arange(W) >= 60)
    assert side.sum() > 100
    side_labels = labels[side]
    # The column next to the front edge is a grazing half pixel from the silhouette (its
    # points are within the depth tolerance of the front face): either label is right.
    far_side = side & (np.arange(W) >= 61)
    assert (labels[far_side] == DISOCCLUDED).all()
    assert set(np.unique(side_labels)) <= {COVERED, CRACK, DISOCCLUDED}
    np.testing.assert_array_equal(labels[28:68, 64:80], DISOCCLUDED)
    np.testing.assert_array_equal(labels == OUTSIDE, _block(range(0, H), range(140, W)))


def test_sky_is_classified_by_direction_and_zero_depth_is_invalid_unless_sky():
    # Plate in front of an empty sky; the reference is narrower (120 px wide, same f).
    k_ref = np.array([[F, 0.0, 60.0], [0.0, F, H / 2], [0.0, 0.0, 1.0]])
    ref_depth = _raycast(_pose(0.0), k=k_ref, w=120, wall_z=None)[0]
    ref = (ref_depth, Intrinsics(F, F, 60.0, H / 2, 120, H), _pose(0.0))
    tgt_c2w = _pose(1.0)
    tgt_depth = _raycast(tgt_c2w, wall_z=None)[0]
    assert np.isposinf(tgt_depth).mean() > 0.8
    mask = np.ones((H, W), dtype=bool)
    labels = classify_regions(tgt_depth, K, tgt_c2w, [ref], mask)
    # Sky at infinity ignores the translation: target column c looks where reference
    # column c - 20 does. Directions beyond the reference's sides are outside; the sky
    # the reference's plate hides (reference columns 40..79, rows 28..67) is disoccluded.
    outside = _block(range(0, H), range(0, 20)) | _block(range(0, H), range(140, W))
    hidden_sky = _block(range(28, 68), range(60, 100))
    np.testing.assert_array_equal(labels == OUTSIDE, outside)
    np.testing.assert_array_equal(labels == DISOCCLUDED, hidden_sky)
    np.testing.assert_array_equal(labels == COVERED, ~(outside | hidden_sky))
    assert (labels[28:68, 20:60] == COVERED).all()  # the plate itself

    # Sky recorded as 0 (uint16 recordings): invalid by default, sky when told so.
    zero_t = np.where(np.isinf(tgt_depth), 0, tgt_depth).astype(np.float32)
    zero_r = (np.where(np.isinf(ref_depth), 0, ref_depth).astype(np.float32), ref[1], ref[2])
    invalid = classify_regions(zero_t, K, tgt_c2w, [zero_r], mask)
    np.testing.assert_array_equal(invalid == INVALID, np.isinf(tgt_depth))
    np.testing.assert_array_equal(invalid[~np.isinf(tgt_depth)], COVERED)
    as_sky = classify_regions(zero_t, K, tgt_c2w, [zero_r], mask, zero_depth_is_sky=True)
    np.testing.assert_array_equal(as_sky, labels)
    # NaN and negative depth are invalid too; torch inputs work like numpy ones.
    bad = tgt_depth.copy()
    bad[0, :3] = [np.nan, -1.0, -np.inf]
    out = classify_regions(torch.from_numpy(bad), torch.from_numpy(K), tgt_c2w, [ref],
                           torch.from_numpy(mask))
    assert (out[0, :3] == INVALID).all()
    np.testing.assert_array_equal(out[1:], labels[1:])


def _reference_classify(depth, k, c2w, refs, mask, rel, abs_tol, near=1e-3):
    """Per-pixel loops, general matrix inverses: the obvious implementation."""
    h, w = depth.shape
    out = np.empty((h, w), dtype=np.uint8)
    k_inv = np.linalg.inv(k)
    for row in range(h):
        for col in range(w):
            z = float(depth[row, col])
            sky = z == math.inf
            if not (sky or (math.isfinite(z) and z > 0)):
                out[row, col] = INVALID
                continue
            ray = k_inv @ np.array([col + 0.5, row + 0.5, 1.0])
            hom = np.append(c2w[:3, :3] @ ray, 0.0) if sky else c2w @ np.append(ray * z, 1.0)
            seen = in_view = False
            for rd, rk, rc2w in refs:
                p = np.linalg.inv(rc2w) @ hom
                if not (p[2] > (0.0 if sky else near)):
                    continue
                u, v = rk[0, 0] * p[0] / p[2] + rk[0, 2], rk[1, 1] * p[1] / p[2] + rk[1, 2]
                if not (0 <= u < rd.shape[1] and 0 <= v < rd.shape[0]):
                    continue
                in_view = True
                d = float(rd[int(v), int(u)])
                if sky:
                    seen |= d == math.inf
                elif math.isfinite(d) and d > 0:
                    seen |= abs(p[2] - d) <= rel * d + abs_tol
            if seen:
                out[row, col] = COVERED if mask[row, col] else CRACK
            else:
                out[row, col] = DISOCCLUDED if in_view else OUTSIDE
    return out


def test_classify_matches_a_per_pixel_reference_with_rotations_and_sizes():
    """Rotated cameras, references of other sizes and intrinsics, sky, invalid pixels."""
    rng = np.random.default_rng(3)
    kt = np.array([[30.0, 0, 17.0], [0, 33.0, 11.5], [0, 0, 1]])
    tgt_c2w = _pose(0.9, yaw=-0.35, y=0.1)
    tgt_depth = _raycast(tgt_c2w, kt, 22, 34, box=BOX, wall_min_y=-0.6)[0]
    tgt_depth[rng.random(tgt_depth.shape) < 0.05] = 0.0
    tgt_depth[3, 4] = np.nan
    refs = []
    for (h, w, f), pose in [((26, 30, 28.0), _pose(0.0, yaw=0.1)),
                            ((18, 40, 25.0), _pose(-0.6, yaw=0.3, z=-0.4))]:
        k = np.array([[f, 0, w / 2 - 1.3], [0, f * 1.1, h / 2 + 0.7], [0, 0, 1]])
        refs.append((_raycast(pose, k, h, w, box=BOX, wall_min_y=-0.6)[0], k, pose))
    mask = rng.random(tgt_depth.shape) < 0.8
    got = classify_regions(tgt_depth, kt, tgt_c2w, refs, mask, depth_tolerance=0.03,
                           depth_tolerance_abs=0.01)
    want = _reference_classify(tgt_depth, kt, tgt_c2w, refs, mask, 0.03, 0.01)
    np.testing.assert_array_equal(got, want)
    counts = np.bincount(got.ravel(), minlength=5)
    assert (counts > 0).all(), counts  # every class is exercised
    assert (got[np.isinf(tgt_depth)] != INVALID).all()  # sky has a region


def test_depth_tolerance_decides_between_seen_and_occluded():
    ref_c2w = _pose(0.0)
    ref_depth = np.full((H, W), 4.0, dtype=np.float32)
    mask = np.ones((H, W), dtype=bool)
    for tgt_z, rel, want in [(4.1, 0.03, COVERED), (4.2, 0.03, DISOCCLUDED),
                             (4.2, 0.05, COVERED), (3.7, 0.03, DISOCCLUDED)]:
        tgt = np.full((H, W), tgt_z, dtype=np.float32)
        labels = classify_regions(tgt, K, ref_c2w, [(ref_depth, K, ref_c2w)], mask,
                                  depth_tolerance=rel)
        assert (labels == want).all(), (tgt_z, rel)
    # Behind the reference camera is outside, even where the projection would land inside.
    behind = _pose(0.0, yaw=math.pi)
    labels = classify_regions(np.full((H, W), 1.0, dtype=np.float32), K, behind,
                              [(ref_depth, K, ref_c2w)], mask)
    assert (labels == OUTSIDE).all()


def test_classify_rejects_bad_inputs():
    d = np.full((H, W), 4.0, dtype=np.float32)
    m = np.ones((H, W), dtype=bool)
    ref = (d, K, np.eye(4))
    with pytest.raises(ValueError, match="target_depth"):
        classify_regions(d.astype(np.int32), K, np.eye(4), [ref], m)
    with pytest.raises(ValueError, match="anchor_mask"):
        classify_regions(d, K, np.eye(4), [ref], m[:, :10])
    with pytest.raises(ValueError, match="references"):
        classify_regions(d, K, np.eye(4), [], m)
    with pytest.raises(ValueError, match=r"references\[0\]"):
        classify_regions(d, K, np.eye(4), [(d, K)], m)
    with pytest.raises(ValueError, match="target_c2w"):
        classify_regions(d, K, np.diag([2.0, 1, 1, 1]), [ref], m)
    with pytest.raises(ValueError, match=r"references\[0\] K"):
        classify_regions(d, K, np.eye(4), [(d, Intrinsics(F, F, 1, 1, 10, 10), np.eye(4))], m)
    with pytest.raises(ValueError, match="depth_tolerance"):
        classify_regions(d, K, np.eye(4), [ref], m, depth_tolerance=-0.1)
    with pytest.raises(ValueError, match="near"):
        classify_regions(d, K, np.eye(4), [ref], m, near=0.0)
    with pytest.raises(ValueError, match="unknown region group"):
        region_mask(np.zeros((2, 2), dtype=np.uint8), "nope")
    with pytest.raises(ValueError, match="region labels"):
        region_mask(np.zeros((2, 2), dtype=np.uint8), [9])


def test_classify_is_fast_at_512():
    k = np.array([[256.0, 0, 256], [0, 256.0, 256], [0, 0, 1]])
    refs = [(_raycast(_pose(x), k, 512, 512, box=BOX)[0], k, _pose(x)) for x in (0.0, 0.6)]
    tgt_c2w = _pose(1.0, yaw=0.1)
    tgt = _raycast(tgt_c2w, k, 512, 512, box=BOX)[0]
    mask = np.ones((512, 512), dtype=bool)
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        classify_regions(tgt, k, tgt_c2w, refs, mask)
        best = min(best, time.perf_counter() - t0)
    assert best < 0.5, f"classify_regions took {best:.3f} s at 512x512 with 2 references"


def test_region_groups_and_mask():
    labels = np.array([[0, 1, 2], [3, 4, 2]], dtype=np.uint8)
    assert region_mask(labels, "holes").tolist() == [[False, False, True], [True, False, True]]
    assert region_mask(labels, "missing").sum() == 4
    assert region_mask(labels, "all").all()
    assert region_mask(labels, Region.CRACK).tolist() == [[False, True, False]] * 1 + \
        [[False, False, False]]
    assert set(REGION_GROUPS) >= {"covered", "crack", "disoccluded", "outside", "holes", "all"}


# --------------------------------------------------------------------------- pooling


def test_pooled_psnr_is_not_the_mean_of_per_image_psnrs():
    g = torch.Generator().manual_seed(0)
    target = torch.rand(3, 3, 24, 40, generator=g, dtype=torch.float64) * 0.5 + 0.25
    labels = np.full((3, 24, 40), COVERED, dtype=np.uint8)
    labels[:, 4:14, 10:20] = DISOCCLUDED  # 100 hole pixels per image
    labels[0, 4:14, 20:40] = DISOCCLUDED  # image 0 has 300
    holes = torch.from_numpy(labels == DISOCCLUDED)[:, None]
    pred = target.clone()
    sign = torch.where(torch.rand(target.shape, generator=g) < 0.5, -1.0, 1.0).double()
    for i, err in enumerate([0.01, 0.1, 0.0]):  # per-image hole MSE 1e-4, 1e-2, 0
        pred[i] += err * sign[i] * holes[i]
    per_image = psnr(pred, target, mask=holes)
    assert per_image[:2].tolist() == pytest.approx([40.0, 20.0], abs=1e-6)
    assert per_image[2].item() == math.inf  # the mean of per-image PSNRs is inf

    acc = RegionAccumulator()
    acc.add(pred, target, labels)
    tot = acc.totals["disoccluded"]
    assert tot.pixels == 500 and tot.samples == 1500 and tot.images == 3
    want_mse = (300 * 1e-4 + 100 * 1e-2 + 0.0) / 500
    assert tot.mse == pytest.approx(want_mse, rel=1e-9)
    assert tot.psnr == pytest.approx(10 * math.log10(1 / want_mse), rel=1e-9)  # 26.6 dB
    assert abs(tot.psnr - per_image[:2].mean().item()) > 3.0
    assert acc.totals["covered"].psnr == math.inf
    assert acc.totals["holes"].sse == pytest.approx(tot.sse)  # nothing is outside
    assert acc.totals["all"].pixels == 3 * 24 * 40
    assert math.isnan(acc.totals["crack"].psnr) and acc.totals["crack"].images == 0

    # One image at a time, and through uint8 frames, pools the same way.
    acc2 = RegionAccumulator()
    for i in range(3):
        acc2.add(pred[i:i + 1], target[i:i + 1], labels[i])
    assert acc2.totals["disoccluded"].sse == pytest.approx(tot.sse, rel=1e-12)
    assert acc2.totals["all"].ssim_sum == pytest.approx(acc.totals["all"].ssim_sum, rel=1e-12)


def test_union_regions_add_their_parts_and_uint8_frames_are_scaled():
    rng = np.random.default_rng(1)
    gt = rng.integers(0, 256, (2, 30, 44, 3), dtype=np.uint8)
    gen = np.clip(gt.astype(int) + rng.integers(-20, 21, gt.shape), 0, 255).astype(np.uint8)
    labels = rng.integers(0, 5, (2, 30, 44)).astype(np.uint8)
    acc = RegionAccumulator()
    acc.add(gen, gt, labels)
    t = acc.totals
    for field in ("pixels", "samples", "sse", "ssim_sum"):
        parts = sum(getattr(t[n], field) for n in ("covered", "crack", "disoccluded", "outside",
                                                   "invalid"))
        assert getattr(t["all"], field) == pytest.approx(parts, rel=1e-12), field
        assert getattr(t["holes"], field) == pytest.approx(
            getattr(t["disoccluded"], field) + getattr(t["outside"], field), rel=1e-12)
    sq = ((gen.astype(np.float64) - gt) / 255.0) ** 2
    assert t["all"].sse == pytest.approx(sq.sum(), rel=1e-12)
    assert t["crack"].sse == pytest.approx(sq[labels == CRACK].sum(), rel=1e-12)
    assert t["all"].psnr == pytest.approx(
        10 * math.log10(1 / sq.mean()), rel=1e-12)
    # The same frames as floating [B, C, H, W] tensors give the same sums.
    acc_f = RegionAccumulator()
    acc_f.add(torch.from_numpy(gen).permute(0, 3, 1, 2) / 255.0,
              torch.from_numpy(gt).permute(0, 3, 1, 2).double() / 255.0, torch.from_numpy(labels))
    assert acc_f.totals["all"].sse == pytest.approx(t["all"].sse, rel=1e-6)
    # Merging two halves equals adding everything at once.
    a1, a2 = RegionAccumulator(), RegionAccumulator()
    a1.add(gen[:1], gt[:1], labels[:1])
    a2.add(gen[1:], gt[1:], labels[1:])
    a1.merge(a2)
    assert a1.scores()["holes"] == pytest.approx(acc.scores()["holes"], rel=1e-12, nan_ok=True)


def test_pooling_rejects_bad_inputs():
    acc = RegionAccumulator()
    img = np.zeros((8, 8, 3), dtype=np.uint8)
    with pytest.raises(ValueError, match="region labels"):
        acc.add(img, img, np.full((8, 8), 7, dtype=np.uint8))
    with pytest.raises(ValueError, match="integer label map"):
        acc.add(img, img, np.zeros((8, 8), dtype=np.float32))
    with pytest.raises(ValueError, match="labels must be"):
        acc.add(img, img, np.zeros((8, 9), dtype=np.uint8))
    with pytest.raises(ValueError, match="same shape"):
        acc.add(img, img[:4], np.zeros((8, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match="numpy images must be uint8"):
        as_image_batch(np.zeros((8, 8, 3), dtype=np.float32))
    with pytest.raises(ValueError, match="region labels"):
        RegionAccumulator({"x": [5]})
    with pytest.raises(ValueError, match="window size"):
        RegionAccumulator(window_size=4)
    with pytest.raises(ValueError, match="samples"):
        pooled_psnr(-1.0, 3)
    assert math.isnan(pooled_psnr(0.0, 0)) and pooled_psnr(0.0, 5) == math.inf
    assert pooled_psnr(0.5 * 255 ** 2 * 10, 10, data_range=255.0) == pytest.approx(
        10 * math.log10(2))


# --------------------------------------------------------------------------- border SSIM


def test_border_ssim_map_equals_the_valid_map_inside_and_a_truncated_window_at_the_border():
    g = torch.Generator().manual_seed(4)
    a = torch.rand(2, 3, 40, 56, generator=g, dtype=torch.float64)
    b = (a + 0.1 * torch.randn(a.shape, generator=g, dtype=torch.float64)).clamp(0, 1)
    full = border_ssim_map(a, b)
    assert full.shape == (2, 1, 40, 56)
    torch.testing.assert_close(full[..., 5:-5, 5:-5], ssim_map(a, b), rtol=0, atol=1e-12)

    # Direct computation at a corner and an edge pixel: in-image Gaussian weights only.
    gw = gaussian_window(11, 1.5).numpy()
    an, bn = a.numpy(), b.numpy()
    for i, j in [(0, 0), (0, 20), (39, 55), (17, 2)]:
        rows = np.arange(i - 5, i + 6)
        cols = np.arange(j - 5, j + 6)
        wgt = np.outer(gw, gw) * np.outer((rows >= 0) & (rows < 40), (cols >= 0) & (cols < 56))
        wgt /= wgt.sum()
        rr, cc = np.clip(rows, 0, 39), np.clip(cols, 0, 55)
        vals = []
        for ch in range(3):
            x = an[1, ch][np.ix_(rr, cc)]
            y = bn[1, ch][np.ix_(rr, cc)]
            mx, my = (wgt * x).sum(), (wgt * y).sum()
            vx, vy = (wgt * x * x).sum() - mx * mx, (wgt * y * y).sum() - my * my
            cxy = (wgt * x * y).sum() - mx * my
            c1, c2 = 0.01 ** 2, 0.03 ** 2
            vals.append((2 * mx * my + c1) * (2 * cxy + c2)
                        / ((mx * mx + my * my + c1) * (vx + vy + c2)))
        assert full[1, 0, i, j].item() == pytest.approx(np.mean(vals), abs=1e-12), (i, j)

    # Identical images score 1 everywhere, also on images smaller than the window.
    small = torch.rand(1, 3, 5, 7, generator=g, dtype=torch.float64)
    torch.testing.assert_close(border_ssim_map(small, small),
                               torch.ones(1, 1, 5, 7, dtype=torch.float64))


def test_a_border_hole_counts_in_the_padded_ssim_but_not_in_a_valid_one():
    rng = np.random.default_rng(5)
    gt = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    gt = cv2.GaussianBlur(gt, (0, 0), 1.0)  # texture with some local correlation
    labels = np.full((H, W), COVERED, dtype=np.uint8)
    labels[:, W - 4:] = OUTSIDE  # a strip along the right border, as a sideways move gives
    gen = gt.copy()
    gen[labels == OUTSIDE] = gt[labels == OUTSIDE].reshape(-1, 3).mean(0).astype(np.uint8)
    p, t = as_image_batch(gen), as_image_batch(gt)
    outside = torch.from_numpy(labels == OUTSIDE)[None, None]
    assert math.isnan(ssim(p, t, mask=outside).item())  # no full window centred there
    whole = ssim(p, t).item()
    assert whole > 0.98  # and the valid-window mean barely moves
    acc = RegionAccumulator()
    acc.add(gen, gt, labels)
    assert acc.totals["outside"].ssim < 0.5
    assert acc.totals["covered"].ssim > 0.8
    assert acc.totals["all"].ssim < whole - 0.01


# --------------------------------------------------------------------------- gradient energy


def test_gradient_energy_counts_only_differences_inside_the_region():
    x = torch.tensor([[[[0.0, 1.0, 3.0], [0.0, 0.0, 0.0]]]], dtype=torch.float64)
    assert gradient_energy(x).item() == pytest.approx(1 + 4 + 1 + 9)
    m = torch.tensor([[[True, True, False], [True, False, False]]])
    assert gradient_energy(x, m).item() == pytest.approx(1 + 0)  # (0,0)-(0,1), (0,0)-(1,0)
    assert gradient_energy(x, torch.zeros_like(m)).item() == 0.0
    with pytest.raises(ValueError, match="x must be"):
        gradient_energy(torch.zeros(3, 4, 4))


def test_gradient_ratio_detects_smears():
    rng = np.random.default_rng(6)
    gt = rng.integers(0, 256, (64, 96, 3), dtype=np.uint8)
    labels = np.full((64, 96), COVERED, dtype=np.uint8)
    labels[16:48, 24:72] = DISOCCLUDED
    hole = labels == DISOCCLUDED

    def ratio(fill: np.ndarray) -> float:
        acc = RegionAccumulator()
        acc.add(fill, gt, labels)
        return acc.totals["disoccluded"].gradient_ratio

    assert ratio(gt) == 1.0
    flat = gt.copy()
    flat[hole] = gt[hole].mean(0).astype(np.uint8)
    assert ratio(flat) == 0.0  # the seam around the hole does not count
    blurred = gt.copy()
    blurred[hole] = cv2.GaussianBlur(gt, (0, 0), 3.0)[hole]
    assert ratio(blurred) < 0.2
    assert ratio(telea_fill(gt, ~hole)) < 0.2
    noise = gt.copy()
    noise[hole] = rng.integers(0, 256, (int(hole.sum()), 3), dtype=np.uint8)
    assert 0.8 < ratio(noise) < 1.25  # as textured as the truth (wrong, but not smeared)
    # The covered region is untouched by every fill.
    acc = RegionAccumulator()
    acc.add(blurred, gt, labels)
    assert acc.totals["covered"].gradient_ratio == 1.0 and acc.totals["covered"].sse == 0.0


# --------------------------------------------------------------------------- warping error


def _frames(xs, smooth=True):
    """Ground-truth frames of the plate scene at camera x positions: rgb [N, 3, H, W]
    float64, depth [N, 1, H, W], c2w [N, 4, 4]."""
    rgbs, depths, poses = [], [], []
    for x in xs:
        c2w = _pose(x)
        depth, points, surface = _raycast(c2w)
        rgbs.append(_texture(points, surface, smooth))
        depths.append(depth[None])
        poses.append(c2w)
    return (torch.from_numpy(np.stack(rgbs)), torch.from_numpy(np.stack(depths)),
            torch.from_numpy(np.stack(poses)))


def _labels_for(c2w: np.ndarray, depth: np.ndarray) -> np.ndarray:
    ref = (_raycast(_pose(0.0))[0], K, _pose(0.0))
    return classify_regions(depth, K, c2w, [ref], _anchor_mask([ref], c2w))


def test_masked_warp_error_is_zero_for_ground_truth_and_large_for_noise():
    rgb, depth, c2w = _frames([1.0, 1.1], smooth=False)  # shifts of 2 px (wall), 4 (plate)
    labels = _labels_for(c2w[1].numpy(), depth[1, 0].numpy())
    holes = torch.from_numpy(region_mask(labels, "holes"))[None]
    prev, cur = rgb[:1], rgb[1:]
    args = (depth[1:], c2w[1:], c2w[:1], torch.from_numpy(K), depth[:1])
    r = warp_error(prev, cur, *args, mask=holes)
    assert r.count.item() > 500
    assert r.error.item() == pytest.approx(0.0, abs=1e-9)
    assert not (r.mask & ~holes[:, None]).any()
    # The mask only restricts: all-True is the unmasked result.
    full = warp_error(prev, cur, *args)
    assert torch.equal(warp_error(prev, cur, *args, mask=torch.ones_like(holes)).mask, full.mask)
    assert full.count.item() > r.count.item()
    assert full.abs_sum.item() == pytest.approx(full.error.item() * full.count.item() * 3)

    g = torch.Generator().manual_seed(8)
    noise = torch.rand(cur.shape, generator=g, dtype=torch.float64)
    noisy_holes = torch.where(holes[:, None], noise, cur)
    assert warp_error(prev, noisy_holes, *args, mask=holes).error.item() > 40.0
    noisy_elsewhere = torch.where(holes[:, None], cur, noise)
    assert warp_error(prev, noisy_elsewhere, *args, mask=holes).error.item() == \
        pytest.approx(0.0, abs=1e-9)
    assert warp_error(prev, noisy_elsewhere, *args).error.item() > 40.0

    # The accumulator pools the same numbers per region (one warp for every region).
    acc = RegionAccumulator()
    acc.add_warp(prev, noisy_holes, labels, *args)
    acc.add_warp(prev, cur, labels, *args)
    noisy = warp_error(prev, noisy_holes, *args, mask=holes)
    tot = acc.totals["holes"]
    assert tot.warp_pixels == 2 * r.count.item()
    assert tot.warp_error == pytest.approx(noisy.abs_sum.item() / (2 * 3 * r.count.item()))
    assert acc.totals["covered"].warp_error == pytest.approx(0.0, abs=1e-9)
    assert acc.totals["all"].warp_pixels == 2 * full.count.item()


def test_masked_warp_error_is_small_under_subpixel_translation():
    rgb, depth, c2w = _frames([1.0, 1.0 + 1 / 60])  # a third of a pixel on the wall
    labels = _labels_for(c2w[1].numpy(), depth[1, 0].numpy())
    acc = RegionAccumulator()
    acc.add_warp(rgb[0].permute(1, 2, 0).mul(255).round().to(torch.uint8).numpy(),
                 rgb[1].permute(1, 2, 0).mul(255).round().to(torch.uint8).numpy(), labels,
                 depth[1, 0].numpy(), c2w[1].numpy(), c2w[0].numpy(), K, depth[0, 0].numpy())
    holes = acc.totals["holes"]
    assert holes.warp_pixels > 500
    assert holes.warp_error < 1.5  # bilinear resampling and 8-bit rounding only


# --------------------------------------------------------------------------- baselines


def test_telea_fill_keeps_covered_pixels_and_extends_smooth_content():
    rows, cols = np.mgrid[0:48, 0:64]
    ramp = np.stack([2 * cols + 30, 3 * rows + 20, cols + rows + 40], -1).astype(np.uint8)
    mask = np.ones((48, 64), dtype=bool)
    mask[20:28, 30:38] = False
    anchor = np.where(mask[..., None], ramp, 0).astype(np.uint8)
    filled = telea_fill(anchor, mask)
    assert filled.dtype == np.uint8 and filled.shape == ramp.shape
    np.testing.assert_array_equal(filled[mask], ramp[mask])
    err_telea = np.abs(filled[~mask].astype(int) - ramp[~mask]).mean()
    nearest = BASELINE_FILLS["nearest"](anchor, mask)
    err_nearest = np.abs(nearest[~mask].astype(int) - ramp[~mask]).mean()
    assert err_telea < 3.0 and err_nearest < 3.0  # both continue a smooth ramp
    np.testing.assert_array_equal(telea_fill(ramp, np.ones((48, 64), bool)), ramp)
    assert (telea_fill(ramp, np.zeros((48, 64), bool)) == 128).all()
    with pytest.raises(ValueError, match="rgb"):
        telea_fill(ramp.astype(np.float32), mask)
    with pytest.raises(ValueError, match="mask"):
        telea_fill(ramp, mask[:10])
    with pytest.raises(ValueError, match="radius"):
        telea_fill(ramp, mask, radius=0)
