"""Camera path templates: rigid level poses, look-at directions, smoothness, collisions."""

from __future__ import annotations

import math

import numpy as np
import pytest

from worldbridge.geometry import (
    Convention,
    opencv_to_opengl_c2w,
    to_opencv_c2w,
    validate_rigid,
)
from worldbridge.recording.trajectory_planner import (
    catmull_rom,
    dolly,
    look_at,
    orbit,
    random_trajectories,
    walk,
)

Z_UP = np.array([0.0, 0.0, 1.0])


def _check_level_cameras(poses, up=Z_UP):
    """Rigid, no roll (right axis horizontal), image down axis pointing away from up."""
    for c2w in poses:
        assert c2w.shape == (4, 4) and c2w.dtype == np.float64
        validate_rigid(c2w, tol=1e-9)
        right, down = c2w[:3, 0], c2w[:3, 1]
        assert abs(right @ up) < 1e-9
        assert down @ up < 0


def _forward(c2w):
    return c2w[:3, 2]  # OpenCV: the camera looks along its +Z


def _angle_deg(a, b):
    c = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    return math.degrees(math.acos(np.clip(c, -1, 1)))


def test_look_at_points_the_camera_at_the_target():
    eye, target = np.array([1.0, -2.0, 1.5]), np.array([0.3, 0.4, 0.8])
    c2w = look_at(eye, target)
    _check_level_cameras([c2w])
    np.testing.assert_allclose(c2w[:3, 3], eye)
    d = (target - eye) / np.linalg.norm(target - eye)
    np.testing.assert_allclose(_forward(c2w), d, atol=1e-12)
    # the target projects to the image centre: camera coordinates (0, 0, distance)
    p = np.linalg.inv(c2w) @ np.append(target, 1)
    np.testing.assert_allclose(p[:3], [0, 0, np.linalg.norm(target - eye)], atol=1e-12)
    # looking along +X in a Z-up world: right is -Y, down is -Z
    np.testing.assert_allclose(look_at([0, 0, 0], [5, 0, 0])[:3, :3],
                               [[0, 0, 1], [-1, 0, 0], [0, -1, 0]], atol=1e-12)
    with pytest.raises(ValueError, match="parallel to up"):
        look_at([0, 0, 0], [0, 0, 3])
    with pytest.raises(ValueError, match="equals target"):
        look_at([1, 1, 1], [1, 1, 1])
    with pytest.raises(ValueError, match="unknown convention"):
        look_at([0, 0, 0], [1, 0, 0], convention="blender")


def test_conventions_opengl_unreal_unity():
    eye, target = [1.0, 2.0, 1.6], [3.0, -1.0, 0.5]
    cv = look_at(eye, target)
    np.testing.assert_allclose(look_at(eye, target, convention="opengl"),
                               opencv_to_opengl_c2w(cv))
    gl = look_at(eye, target, convention=Convention.OPENGL)
    np.testing.assert_allclose(-gl[:3, 2], _forward(cv), atol=1e-12)  # GL looks down -Z
    # Y-up right-handed world (OpenGL style): the image's down axis is -Y
    y_up = look_at([0, 1.6, 0], [2, 1.0, -3], up=(0, 1, 0))
    _check_level_cameras([y_up], up=np.array([0.0, 1.0, 0.0]))

    # Unreal: centimetres, Z up, the camera looks along its local +X
    ue_eye, ue_target = np.array([100.0, 200.0, 160.0]), np.array([400.0, -100.0, 50.0])
    ue = look_at(ue_eye, ue_target, convention="unreal")
    validate_rigid(ue, tol=1e-9)
    np.testing.assert_allclose(ue[:3, 3], ue_eye)
    d = (ue_target - ue_eye) / np.linalg.norm(ue_target - ue_eye)
    np.testing.assert_allclose(ue[:3, 0], d, atol=1e-12)
    assert abs(ue[2, 1]) < 1e-12 and ue[2, 2] > 0  # right axis level, camera up is world up
    # and the backend reads it as a level OpenCV camera looking at the mapped target
    cv_ue = to_opencv_c2w(ue, Convention.UNREAL)
    t_cv = to_opencv_c2w(np.block([[np.eye(3), ue_target[:, None]], [np.zeros((1, 3)), 1]]),
                         Convention.UNREAL)[:3, 3]
    np.testing.assert_allclose(_forward(cv_ue),
                               (t_cv - cv_ue[:3, 3]) / np.linalg.norm(t_cv - cv_ue[:3, 3]),
                               atol=1e-12)
    # Unity: metres, Y up, the camera looks along its local +Z, its local +Y is up-ish
    un = look_at([0, 1.6, 0], [3, 1.0, 4], convention="unity")
    np.testing.assert_allclose(un[:3, 2], np.array([3, -0.6, 4]) / np.linalg.norm([3, -0.6, 4]),
                               atol=1e-12)
    assert abs(un[1, 0]) < 1e-12 and un[1, 1] > 0


def test_orbit_circles_the_centre_and_looks_at_it():
    centre = np.array([0.5, -0.5, 0.2])
    poses = orbit(centre, 4.0, 1.5, start_deg=-30, arc_deg=120, n=9)
    assert len(poses) == 9
    _check_level_cameras(poses)
    eyes = np.array([p[:3, 3] for p in poses])
    np.testing.assert_allclose(np.linalg.norm(eyes[:, :2] - centre[:2], axis=1), 4.0)
    np.testing.assert_allclose(eyes[:, 2], centre[2] + 1.5)
    np.testing.assert_allclose(eyes[0, :2] - centre[:2], 4 * np.array(
        [math.cos(math.radians(-30)), math.sin(math.radians(-30))]), atol=1e-12)
    angles = np.degrees(np.arctan2(eyes[:, 1] - centre[1], eyes[:, 0] - centre[0]))
    np.testing.assert_allclose(np.diff(angles), 15.0, atol=1e-9)  # counter-clockwise from +X
    for p in poses:
        d = centre - p[:3, 3]
        np.testing.assert_allclose(_forward(p), d / np.linalg.norm(d), atol=1e-12)
    # another look-at point, and Y up (e1 = X, e2 = Y x X = -Z)
    spot = np.array([0.0, 0.0, 1.0])
    for p in orbit(centre, 3.0, 0.0, 0, 90, 4, look_at=spot):
        d = spot - p[:3, 3]
        np.testing.assert_allclose(_forward(p), d / np.linalg.norm(d), atol=1e-12)
    y_up = orbit([0, 0, 0], 2.0, 1.0, 90, 10, 2, up=(0, 1, 0))
    np.testing.assert_allclose(y_up[0][:3, 3], [0, 1, -2], atol=1e-12)
    with pytest.raises(ValueError):
        orbit(centre, 0.0, 1, 0, 90, 5)
    with pytest.raises(ValueError):
        orbit(centre, 1.0, 1, 0, 90, 0)


def test_dolly_track_and_orientation():
    start, end = np.array([6.0, -5.0, 2.0]), np.array([2.0, -1.0, 1.5])
    poses = dolly(start, end, 11)
    _check_level_cameras(poses)
    eyes = np.array([p[:3, 3] for p in poses])
    np.testing.assert_allclose(eyes, start + np.linspace(0, 1, 11)[:, None] * (end - start))
    d = (end - start) / np.linalg.norm(end - start)
    for p in poses:  # a push-in along the track
        np.testing.assert_allclose(_forward(p), d, atol=1e-12)
    fixed = dolly(start, end, 5, direction=(1, 0, 0))
    for p in fixed:
        np.testing.assert_allclose(_forward(p), [1, 0, 0], atol=1e-12)
    target = np.array([0.0, 0.0, 1.0])
    for p in dolly(start, end, 5, look_at=target):
        v = target - p[:3, 3]
        np.testing.assert_allclose(_forward(p), v / np.linalg.norm(v), atol=1e-12)
    eased = np.array([p[:3, 3] for p in dolly(start, end, 11, ease=True)])
    steps = np.linalg.norm(np.diff(eased, axis=0), axis=1)
    assert steps[0] < steps[5] > steps[-1]
    with pytest.raises(ValueError, match="start equals end"):
        dolly(start, start, 3)


def test_catmull_rom_passes_through_points_at_constant_speed():
    pts = np.array([[0, 0, 0], [2, 0, 0], [3, 2, 0], [1, 4, 0.5]], dtype=float)
    pos, tan = catmull_rom(pts, 400)
    np.testing.assert_allclose(pos[0], pts[0])
    np.testing.assert_allclose(pos[-1], pts[-1])
    for p in pts:
        assert np.min(np.linalg.norm(pos - p, axis=1)) < 0.02
    steps = np.linalg.norm(np.diff(pos, axis=0), axis=1)
    assert steps.max() / steps.min() < 1.02
    np.testing.assert_allclose(np.linalg.norm(tan, axis=1), 1.0)
    np.testing.assert_allclose(tan[1:-1], (pos[2:] - pos[:-2]) / np.linalg.norm(
        pos[2:] - pos[:-2], axis=1, keepdims=True), atol=0.02)
    loop, _ = catmull_rom(pts, 100, closed=True)
    assert np.linalg.norm(loop[-1] - loop[0]) < 2 * np.linalg.norm(loop[1] - loop[0])
    with pytest.raises(ValueError):
        catmull_rom([[1, 1, 1], [1, 1, 1]], 5)


def _smooth(positions, forwards, max_turn_deg):
    steps = np.diff(positions, axis=0)
    lengths = np.linalg.norm(steps, axis=1)
    accel = np.linalg.norm(np.diff(steps, axis=0), axis=1)
    turns = [_angle_deg(a, b) for a, b in zip(forwards[:-1], forwards[1:])]
    return accel.max() < 0.25 * lengths.mean() and max(turns) < max_turn_deg


def test_walk_follows_the_waypoints_looking_ahead():
    ground = [[-3.5, -4.5, 0], [0.0, -5.0, 0], [4.0, -1.0, 0], [2.0, 3.0, 0], [-2.5, 3.5, 0]]
    poses = walk(ground, 96, eye_height=1.6, pitch_deg=-10)
    _check_level_cameras(poses)
    eyes = np.array([p[:3, 3] for p in poses])
    fwd = np.array([_forward(p) for p in poses])
    np.testing.assert_allclose(eyes[:, 2], 1.6)
    for w in ground:
        assert np.min(np.linalg.norm(eyes[:, :2] - np.array(w)[:2], axis=1)) < 0.15
    travel = np.diff(eyes, axis=0)
    for f, t in zip(fwd[:-1], travel):
        h = f[:2] / np.linalg.norm(f[:2])
        assert _angle_deg(np.append(h, 0), np.append(t[:2], 0)) < 8  # looks where it goes
    np.testing.assert_allclose(np.degrees(np.arcsin(fwd[:, 2])), -10, atol=1e-9)
    assert _smooth(eyes, fwd, max_turn_deg=8)
    swaying = walk(ground, 96, eye_height=1.6, sway_deg=15, sway_cycles=2)
    _check_level_cameras(swaying)
    yaw = [_angle_deg(a[:3, 2], b[:3, 2]) for a, b in zip(poses, swaying)]
    assert 12 < max(yaw) < 25


def test_random_trajectories_stay_free_smooth_and_reproducible():
    bounds = [[-5, -5, 0.5], [5, 5, 2.5]]
    pillar = np.array([0.0, 0.0])

    def is_free(p):
        assert p.shape == (3,)
        return bool(np.linalg.norm(p[:2] - pillar) > 1.5)

    paths = random_trajectories(bounds, 6, 40, np.random.default_rng(7), is_free)
    assert len(paths) == 6 and all(len(p) == 40 for p in paths)
    for path in paths:
        _check_level_cameras(path)
        eyes = np.array([c2w[:3, 3] for c2w in path])
        assert np.all(eyes >= np.array(bounds[0]) - 1e-9) and np.all(eyes <= bounds[1])
        assert np.all(np.linalg.norm(eyes[:, :2] - pillar, axis=1) > 1.5)
        steps = np.linalg.norm(np.diff(eyes, axis=0), axis=1)
        assert 0.03 - 1e-6 <= steps.mean() <= 0.12 + 1e-6
        assert steps.max() / steps.min() < 1.05
        assert _smooth(eyes, np.array([_forward(c) for c in path]), max_turn_deg=8)
    again = random_trajectories(bounds, 6, 40, np.random.default_rng(7), is_free)
    assert all(np.array_equal(a, b) for pa, pb in zip(paths, again) for a, b in zip(pa, pb))
    other = random_trajectories(bounds, 6, 40, np.random.default_rng(8), is_free)
    assert not np.allclose(paths[0][0], other[0][0])


def test_random_trajectories_reject_blocked_places():
    calls = []

    def is_free(p):
        calls.append(p)
        return p[0] < 0.0  # only the half x < 0 is free

    paths = random_trajectories([[-3, -3, 1], [3, 3, 2]], 4, 30, np.random.default_rng(1),
                                is_free, checks_per_step=2)
    for path in paths:
        assert all(c2w[0, 3] < 0 for c2w in path)
    assert len(calls) > 4 * 30  # positions between frames are checked too
    with pytest.raises(RuntimeError, match="failed is_free"):
        random_trajectories([[-3, -3, 1], [3, 3, 2]], 1, 30, np.random.default_rng(1),
                            lambda p: False, max_tries=20)
    with pytest.raises(RuntimeError, match="left the box"):  # 10 m paths in a 1 m box
        random_trajectories([[0, 0, 0], [1, 1, 1]], 1, 100, np.random.default_rng(1),
                            step_range=(0.1, 0.1), max_tries=20)
    with pytest.raises(ValueError, match="bounds"):
        random_trajectories([[1, 0, 0], [0, 1, 1]], 1, 10, np.random.default_rng(1))


def test_random_trajectories_in_unreal_units():
    box = [[-500.0, -500.0, 100.0], [500.0, 500.0, 250.0]]  # centimetres
    paths = random_trajectories(box, 2, 20, np.random.default_rng(3), convention="unreal")
    for path in paths:
        eyes = np.array([c2w[:3, 3] for c2w in path])
        steps = np.linalg.norm(np.diff(eyes, axis=0), axis=1)
        assert 3.0 - 1e-6 <= steps.mean() <= 12.0 + 1e-6  # 3-12 cm per frame
        for c2w in path:
            validate_rigid(c2w, tol=1e-9)
            assert abs(c2w[2, 1]) < 1e-9  # Unreal camera's right (local +Y) is level
