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
