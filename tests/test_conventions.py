"""Pose conventions against the shared hand-derived vectors, plus round trips and errors."""

import json
from pathlib import Path

import numpy as np
import pytest
from helpers import random_pose

from worldbridge.geometry import (
    Convention,
    Intrinsics,
    IntrinsicsError,
    PoseError,
    from_opencv_c2w,
    invert_rigid,
    opencv_to_opengl_c2w,
    to_opencv_c2w,
)

VECTORS = json.loads((Path(__file__).parent / "vectors" / "conventions.json").read_text())


@pytest.mark.parametrize("case", VECTORS["poses"], ids=lambda c: c["name"])
def test_shared_pose_vectors(case):
    engine = np.array(case["engine_c2w"], float).reshape(4, 4)
    expected = np.array(case["opencv_c2w"], float).reshape(4, 4)
    got = to_opencv_c2w(engine, Convention[case["convention"]])
    np.testing.assert_allclose(got, expected, atol=1e-12)
    np.testing.assert_allclose(from_opencv_c2w(got, Convention[case["convention"]]), engine, atol=1e-12)


def _unreal_rotator_c2w(location_cm, pitch, yaw, roll):
    """FRotationTranslationMatrix (row-vector, rows are the X/Y/Z axes), transposed."""
    sp, cp = np.sin(np.radians(pitch)), np.cos(np.radians(pitch))
    sy, cy = np.sin(np.radians(yaw)), np.cos(np.radians(yaw))
    sr, cr = np.sin(np.radians(roll)), np.cos(np.radians(roll))
    rows = np.array([[cp * cy, cp * sy, sp],
                     [sr * sp * cy - cr * sy, sr * sp * sy + cr * cy, -sr * cp],
                     [-(cr * sp * cy + sr * sy), cy * sr - cr * sp * sy, cr * cp]])
    m = np.eye(4)
    m[:3, :3] = rows.T
    m[:3, 3] = location_cm
    return m


def _unity_trs_c2w(position, xyzw):
    """Matrix4x4.TRS(position, rotation, Vector3.one) (Unity's quaternion-to-matrix)."""
    x, y, z, w = xyzw
    m = np.eye(4)
    m[:3, :3] = [[1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                 [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                 [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)]]
    m[:3, 3] = position
    return m


@pytest.mark.parametrize("case", [c for c in VECTORS["poses"] if c["convention"] in ("UNREAL", "UNITY")],
                         ids=lambda c: c["name"])
def test_engine_native_parameters_give_engine_c2w(case):
    """Each engine's own rotation (FRotator, Quaternion) reproduces the vector's matrix."""
    if case["convention"] == "UNREAL":
        got = _unreal_rotator_c2w(case["unreal_location_cm"], *case["unreal_rotator_pyr_deg"])
    else:
        got = _unity_trs_c2w(case["unity_position_m"], case["unity_rotation_xyzw"])
    np.testing.assert_allclose(got, np.array(case["engine_c2w"], float).reshape(4, 4), atol=1e-12)


@pytest.mark.parametrize("case", VECTORS["intrinsics"], ids=lambda c: c["name"])
def test_shared_intrinsics_vectors(case):
    make = Intrinsics.from_horizontal_fov if case["fov_axis"] == "horizontal" else Intrinsics.from_vertical_fov
    k = make(case["fov_deg"], case["width"], case["height"])
    for key, value in case["expected"].items():
        assert getattr(k, key) == pytest.approx(value, rel=1e-12)


@pytest.mark.parametrize("conv", [Convention.UNREAL, Convention.UNITY, Convention.OPENGL, Convention.OPENCV])
def test_round_trip_and_rigidity(conv):
    rng = np.random.default_rng(int(conv))
    for _ in range(20):
        m = random_pose(rng, 10.0)
        cv = to_opencv_c2w(m, conv)
        assert np.linalg.det(cv[:3, :3]) == pytest.approx(1.0)
        np.testing.assert_allclose(from_opencv_c2w(cv, conv), m, atol=1e-9)


def test_relative_motion_is_preserved_in_metres():
    """Two Unreal cameras 250 cm apart are 2.5 m apart in OpenCV, and see each other alike."""
    a, b = np.eye(4), np.eye(4)
    b[:3, 3] = [150, 200, 0]
    ca, cb = to_opencv_c2w(a, Convention.UNREAL), to_opencv_c2w(b, Convention.UNREAL)
    assert np.linalg.norm(ca[:3, 3] - cb[:3, 3]) == pytest.approx(2.5)
    # b is forward (+X_ue) and right (+Y_ue) of a: in a's OpenCV camera it is at +z and +x
    p = (invert_rigid(ca) @ cb)[:3, 3]
    np.testing.assert_allclose(p, [2.0, 0.0, 1.5])


def test_opengl_flip_matches_nerfstudio():
    cv = np.eye(4)
    gl = opencv_to_opengl_c2w(cv)
    # OpenGL camera looks down its -Z column: the OpenCV viewing direction (+Z of cv)
    np.testing.assert_allclose(-gl[:3, 2], cv[:3, 2])


@pytest.mark.parametrize("bad, match", [
    (np.full((4, 4), np.nan), "non-finite"),
    (np.diag([2.0, 2.0, 2.0, 1.0]), "not rigid"),
    (np.diag([1.0, 1.0, -1.0, 1.0]), "det"),
    (np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1.0]]), "bottom row"),
    (np.eye(3), "16 values"),
])
def test_bad_poses(bad, match):
    with pytest.raises(PoseError, match=match):
        to_opencv_c2w(bad, Convention.OPENCV)


def test_unknown_convention():
    with pytest.raises(PoseError, match="unknown pose convention 9"):
        to_opencv_c2w(np.eye(4), 9)
    with pytest.raises(PoseError, match="UNSPECIFIED"):
        to_opencv_c2w(np.eye(4), 0)


def test_bad_intrinsics():
    with pytest.raises(IntrinsicsError, match="horizontal FOV"):
        Intrinsics.from_horizontal_fov(180, 10, 10)
    with pytest.raises(IntrinsicsError, match="fx=-1"):
        Intrinsics(-1, 1, 0, 0, 4, 4)
    with pytest.raises(IntrinsicsError, match="finite"):
        Intrinsics(float("nan"), 1, 0, 0, 4, 4)
