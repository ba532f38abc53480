"""The Panda3D example engine: offscreen EGL rendering, exact depth, conventions.

Needs panda3d and Mesa's EGL (``apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri``); the
engine tests skip with the reason when an offscreen buffer cannot be created.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest

from worldbridge.geometry import invert_rigid, opengl_to_opencv_c2w

pytestmark = pytest.mark.engine

_SIZE = 256


@pytest.fixture(scope="module")
def pe(panda_example):
    return panda_example


@pytest.fixture(scope="module")
def engine(panda_engine):
    return panda_engine


def _pitched(pe, eye, yaw_deg, pitch_deg):
    """OpenGL c2w at ``eye`` looking along compass yaw (0 = +Y) and pitch (up > 0)."""
    yaw, pitch = math.radians(yaw_deg), math.radians(pitch_deg)
    d = np.array([-math.sin(yaw) * math.cos(pitch), math.cos(yaw) * math.cos(pitch),
                  math.sin(pitch)])
    return pe.look_at_gl(eye, np.asarray(eye, float) + d)


def test_rgb_is_nontrivial_and_depth_positive(pe, engine):
    rgb, depth = engine.render(pe.camera_path(8, "orbit")[0])
    assert rgb.shape == (_SIZE, _SIZE, 3) and rgb.dtype == np.uint8
    assert depth.shape == (_SIZE, _SIZE) and depth.dtype == np.float32
    colours = np.unique(rgb.reshape(-1, 3), axis=0)
    assert len(colours) > 500, f"only {len(colours)} distinct colours"
    assert rgb.std() > 20
    geo = depth > 0
    assert 0.5 < geo.mean() < 1.0  # mostly geometry, some sky
    assert np.all(np.isfinite(depth))
    assert depth[geo].min() >= engine.near and depth[geo].max() <= engine.far
    # the green garden: grass dominates the lower half
    lower = rgb[_SIZE // 2:].astype(int)
    assert np.mean(lower[..., 1] > lower[..., 2]) > 0.8


def test_sky_has_zero_depth_and_clear_colour(pe, engine):
    rgb, depth = engine.render(_pitched(pe, (0.0, -3.0, 1.6), 0.0, 45.0))
    sky = depth == 0
    assert sky[: _SIZE // 4].mean() > 0.5, "looking 45 degrees up should show sky at the top"
    assert np.all(rgb[sky] == np.array(pe.SKY_RGB, np.uint8)), "sky pixels must be the clear colour"
    assert np.all(np.isfinite(depth)) and depth.min() >= 0.0


def test_images_are_top_down(pe, engine):
    rgb, depth = engine.render(_pitched(pe, (0.0, -3.0, 1.6), 0.0, 5.0))
    top, bottom = slice(0, _SIZE // 5), slice(_SIZE - _SIZE // 5, _SIZE)
    sky = np.all(rgb == np.array(pe.SKY_RGB, np.uint8), axis=-1)
    assert sky[top].mean() > 0.05 and sky[bottom].mean() == 0.0  # rgb: sky above
    assert np.array_equal(sky, depth == 0)                       # depth rows match rgb rows
    assert np.median(depth[bottom]) < 0.5 * np.median(depth[top][depth[top] > 0])  # ground near


def test_depth_is_exact_planar_z_on_flat_ground(pe, engine):
    """Looking straight down from h metres, the ground (z = 0) is at planar depth h."""
    h = 2.5
    c2w = pe.look_at_gl((3.5, -2.5, h), (3.5, -2.5, 0.0), up=(0.0, 1.0, 0.0))
    rgb, depth = engine.render(c2w)
    ground = np.abs(depth - h) < 0.05
    assert ground.mean() > 0.9, "the patch below the camera should be bare ground"
    err = np.abs(depth[ground] - h)
    assert np.median(err) < 1e-4 and err.max() < 1e-3
    # and the side view of the same ground agrees with the ray-plane intersection
    c2w = pe.look_at_gl((3.5, -4.0, h), (3.5, 0.0, 0.0))
    _, depth = engine.render(c2w)
    K = engine.intrinsics()
    v = np.arange(_SIZE) + 0.5
    cam_y = (v - K.cy) / K.fy                                    # OpenCV ray (.., y, 1) per row
    c2w_cv = opengl_to_opencv_c2w(c2w)
    ray_z_world = c2w_cv[2, 1] * cam_y + c2w_cv[2, 2]            # world z of the ray direction
    expected = np.where(ray_z_world < 0, -h / np.minimum(ray_z_world, -1e-9), 0.0)
    col = depth[:, _SIZE // 2]
    rows = (expected > 0) & (expected < 6.0)                     # near ground, no props there
    assert rows.sum() > _SIZE // 4
    assert np.allclose(col[rows], expected[rows], rtol=1e-3)


def test_depth_formula_matches_panda_lens(pe, engine):
    """z = n f / (f - d (f - n)) inverts Panda's projection (NDC z in [-1, 1], d = (z + 1) / 2)."""
    from panda3d.core import Point3
    n, f = engine.near, engine.far
    out = Point3()
    for z in (0.06, 0.5, 3.0, 25.0):  # float32 lens maths: further away d rounds to ~1
        assert engine._lens.project(Point3(0.01, z, 0.01), out)
        d = (out.z + 1.0) / 2.0
        assert n * f / (f - d * (f - n)) == pytest.approx(z, rel=1e-4)


def test_depth_reprojects_consistently_into_a_translated_view(pe, engine):
    """Unproject view A with its depth, reproject into B (moved 0.6 m, turned 8 deg)."""
    c2w_a = pe.look_at_gl((3.0, -4.0, 1.7), (0.0, 0.5, 0.8))
    c2w_b = pe.look_at_gl((2.2, -4.3, 1.9), (-0.4, 0.2, 0.7))
    assert np.linalg.norm(c2w_a[:3, 3] - c2w_b[:3, 3]) > 0.5
    _, za = engine.render(c2w_a)
    _, zb = engine.render(c2w_b)
    K = engine.intrinsics().K
    rows, cols = np.nonzero(za > 0)
    z = za[rows, cols].astype(np.float64)
    pix = np.stack([cols + 0.5, rows + 0.5, np.ones_like(z)])
    cam_a = np.linalg.inv(K) @ pix * z                      # OpenCV camera A, metres
    world = opengl_to_opencv_c2w(c2w_a) @ np.vstack([cam_a, np.ones_like(z)])
    cam_b = (invert_rigid(opengl_to_opencv_c2w(c2w_b)) @ world)[:3]
    uvw = K @ cam_b
    u, v = uvw[0] / uvw[2], uvw[1] / uvw[2]
    inside = (cam_b[2] > 0) & (u >= 0) & (u < _SIZE) & (v >= 0) & (v < _SIZE)
    ub, vb = u[inside].astype(int), v[inside].astype(int)
    z_pred, z_true = cam_b[2][inside], zb[vb, ub].astype(np.float64)
    covis = z_true > 0
    assert covis.sum() > 0.5 * _SIZE * _SIZE
    rel = np.abs(z_pred[covis] - z_true[covis]) / z_true[covis]
    assert np.median(rel) < 0.01, f"median relative error {np.median(rel):.4f}"
    assert np.mean(rel < 0.02) > 0.8, f"only {np.mean(rel < 0.02):.2f} within 2%"
    # a wrong axis or row order would scramble it: moving B by the pose error must not match
    c2w_wrong = c2w_b.copy()
    c2w_wrong[:3, 1] *= -1.0
    c2w_wrong[:3, 2] *= -1.0  # pretend the pose were OpenCV already (a classic mistake)
    cam_w = (invert_rigid(opengl_to_opencv_c2w(c2w_wrong)) @ world)[:3]
    assert np.mean(cam_w[2] > 0) < 0.05


def test_render_is_synchronous_and_deterministic(pe, engine):
    """No one-frame lag: each render returns the pose it was given."""
    a, b = pe.camera_path(2, "dolly")
    rgb_a1, z_a1 = engine.render(a)
    rgb_b, z_b = engine.render(b)
    rgb_a2, z_a2 = engine.render(a)
    assert np.array_equal(rgb_a1, rgb_a2) and np.array_equal(z_a1, z_a2)
    assert not np.array_equal(z_a1, z_b)


def test_render_from_another_thread(pe, engine):
    """gRPC clients pull request iterators on their own threads; the GL context must follow."""
    c2w = pe.camera_path(4, "orbit")[2]
    rgb_ref, z_ref = engine.render(c2w)
    out = {}
    worker = threading.Thread(target=lambda: out.update(zip(("rgb", "z"), engine.render(c2w))))
    worker.start()
    worker.join(timeout=20)
    assert np.array_equal(out["z"], z_ref) and np.array_equal(out["rgb"], rgb_ref)


def test_two_instances_coexist_and_close(pe, engine):
    c2w = pe.camera_path(3, "walk")[1]
    rgb_ref, z_ref = engine.render(c2w)
    with pe.PandaEngine(_SIZE, _SIZE, fov_y_deg=60.0, near=0.05, far=200.0) as other:
        rgb, z = other.render(c2w)
        assert np.array_equal(z, z_ref) and np.array_equal(rgb, rgb_ref)
        small = pe.PandaEngine(64, 48, fov_y_deg=50.0)
        rgb_s, z_s = small.render(c2w)
        assert rgb_s.shape == (48, 64, 3) and z_s.shape == (48, 64)
        small.close()
        small.close()  # idempotent
        with pytest.raises(RuntimeError):
            small.render(c2w)
    rgb2, z2 = engine.render(c2w)  # the first engine is untouched by the others closing
    assert np.array_equal(z2, z_ref)


def test_intrinsics_and_bad_input(pe, engine):
    K = engine.intrinsics()
    assert (K.width, K.height) == (_SIZE, _SIZE)
    assert K.fy == pytest.approx(0.5 * _SIZE / math.tan(math.radians(30.0)))
    assert (K.cx, K.cy) == (_SIZE / 2, _SIZE / 2)
    with pytest.raises(ValueError):
        engine.render(np.diag([1.0, 1.0, 2.0, 1.0]))
    with pytest.raises(ValueError):
        pe.PandaEngine(0, 10)


@pytest.mark.parametrize("kind", ["orbit", "dolly", "walk"])
def test_camera_paths_translate_and_stay_above_ground(pe, kind):
    poses = pe.camera_path(24, kind)
    assert len(poses) == 24
    eyes = np.array([p[:3, 3] for p in poses])
    steps = np.linalg.norm(np.diff(eyes, axis=0), axis=1)
    assert steps.min() > 0.01 and steps.sum() > 3.0          # it moves, metres
    assert eyes[:, 2].min() > 1.0                              # above the ground (z = 0)
    assert np.abs(eyes[:, :2]).max() < 7.0                     # inside the clearing
    for p in poses:
        assert np.allclose(p[:3, :3].T @ p[:3, :3], np.eye(3), atol=1e-9)
        assert np.linalg.det(p[:3, :3]) == pytest.approx(1.0)
        assert abs(p[2, 0]) < 1e-9                             # no roll: camera X horizontal
    with pytest.raises(ValueError):
        pe.camera_path(0, kind)
    with pytest.raises(ValueError):
        pe.camera_path(3, "spiral")


@pytest.mark.engine
def test_keyframes_grow_the_world_as_the_camera_walks_away(pe, engine, make_gateway, tmp_path):
    """One reference view at the start of the walk: without keyframes the anchors thin out
    as the camera leaves it; with a keyframe every 2nd frame the memory grows with the
    walk and covers more of each frame. The strip and the video are written."""
    gw = make_gateway()
    common = ["--server", gw.target, "--frames", "12", "--size", "64", "--path", "walk",
              "--references", "1", "--rows", "2"]
    plain = pe.main(common + ["--out", str(tmp_path / "plain.png")])
    grown = pe.main(common + ["--out", str(tmp_path / "grown.png"), "--keyframe-every", "2",
                              "--video", str(tmp_path / "walk.mp4")])
    assert plain["frames"] == grown["frames"] == 12 and grown["errors"] == 0
    assert grown["coverage_mean"] > plain["coverage_mean"] + 0.05
    assert (tmp_path / "grown.png").stat().st_size > 0 and (tmp_path / "walk.mp4").stat().st_size > 0
