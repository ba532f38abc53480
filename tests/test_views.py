"""Camera and PosedView: validated once, then trusted from the edge to the renderer."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import record_synthetic_scene

from worldbridge.geometry import Convention, Intrinsics, PoseError, to_opencv_c2w
from worldbridge.geometry.views import Camera, EngineView, PosedView
from worldbridge.memory import SceneMemory

K = Intrinsics.from_vertical_fov(60, 48, 32)  # non-square on purpose


def _pose(yaw: float = 0.3, t=(0.5, -0.2, 1.5)) -> np.ndarray:
    m = np.eye(4)
    c, s = np.cos(yaw), np.sin(yaw)
    m[:3, :3] = [[c, 0, s], [0, 1, 0], [-s, 0, c]]
    m[:3, 3] = t
    return m


@pytest.mark.parametrize("convention", [Convention.UNREAL, Convention.UNITY, Convention.OPENGL, Convention.OPENCV])
def test_camera_from_engine_is_the_converted_pose_and_its_exact_inverse(convention):
    engine = _pose()
    cam = Camera.from_engine(engine, convention, K)
    np.testing.assert_array_equal(cam.c2w, to_opencv_c2w(engine, convention))
    np.testing.assert_allclose(cam.w2c @ cam.c2w, np.eye(4), atol=1e-12)
    assert not cam.c2w.flags.writeable and not cam.w2c.flags.writeable


def test_camera_from_engine_names_what_is_wrong():
    sheared = _pose()
    sheared[0, 1] = 0.4
    with pytest.raises(PoseError, match="rotation is not rigid"):
        Camera.from_engine(sheared, Convention.OPENCV, K)
    with pytest.raises(PoseError, match="UNSPECIFIED|unspecified"):
        Camera.from_engine(_pose(), Convention.UNSPECIFIED, K)
    with pytest.raises(ValueError, match="intrinsics must be an Intrinsics"):
        Camera.from_engine(_pose(), Convention.OPENCV, K.K)


def test_rescaling_a_camera_keeps_its_checked_pose():
    cam = Camera(_pose(), K)
    assert cam.scaled_to(K.width, K.height) is cam
    half = cam.scaled_to(24, 16)
    assert (half.intrinsics.width, half.intrinsics.height) == (24, 16)
    assert half.c2w is cam.c2w and half.w2c is cam.w2c
    with pytest.raises(ValueError, match="intrinsics must be an Intrinsics"):
        cam.with_intrinsics("wide")


def test_posed_view_refuses_arrays_of_another_size_or_dtype():
    cam = Camera(_pose(), K)
    rgb = np.zeros((32, 48, 3), np.uint8)
    depth = np.ones((32, 48), np.float32)
    view = PosedView(cam, rgb, depth)
    assert view.intrinsics is K and view.rgb is rgb
    assert PosedView(cam).rgb is None  # a pose-only capture
    with pytest.raises(ValueError, match=r"uint8 \[32, 48, 3\].*got uint8 \[48, 32, 3\]"):
        PosedView(cam, np.zeros((48, 32, 3), np.uint8), depth)
    with pytest.raises(ValueError, match=r"float32 \[32, 48\].*got float64"):
        PosedView(cam, rgb, depth.astype(np.float64))
    with pytest.raises(ValueError, match="camera must be a Camera"):
        PosedView(_pose(), rgb, depth)


def _memory_with_holes() -> tuple[SceneMemory, np.ndarray]:
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)
    depth = rng.uniform(2.0, 5.0, (32, 48)).astype(np.float32)
    depth[8:20, 10:30] = 0.0  # a hole in the anchors
    mem = SceneMemory(max_points=None)
    mem.add_view(rgb, depth, K, _pose(0.0, (0, 0, 0)), reference=True)
    return mem, rgb


def test_camera_paths_of_the_scene_memory_equal_the_matrix_paths():
    mem, rgb = _memory_with_holes()
    target = _pose(0.15, (0.3, 0.0, 0.2))
    a = mem.render(target, K.K, K.height, K.width)
    b = mem.render_camera(Camera(target, K))
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.mask, b.mask)
    assert 0 < b.mask.mean() < 1
    depth = np.full((32, 48), 3.0, np.float32)
    twin = SceneMemory(max_points=None)
    twin.add_view(rgb, depth, K, target)
    mem2 = SceneMemory(max_points=None)
    assert mem2.add_camera_view(rgb, depth, Camera(target, K)) == twin.num_points
    np.testing.assert_array_equal(mem2.points, twin.points)
    with pytest.raises(ValueError, match="intrinsics are for a 48x32 image"):
        mem2.add_camera_view(rgb[:16], depth[:16], Camera(target, K))


def test_a_served_frame_checks_its_pose_once(monkeypatch):
    """The worker checks the camera when it decodes it; rendering a frame and lifting a
    keyframe neither check rigidity nor invert the pose again."""
    import worldbridge.geometry.views as views_module
    import worldbridge.memory.pointcloud as pointcloud_module
    from worldbridge.serving.worker.session import OutputSpec, WorkerSession

    mem_rgb = np.random.default_rng(2).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    ref = PosedView(Camera(_pose(0.0, (0, 0, 0)), K), mem_rgb, np.full((32, 48), 3.0, np.float32))
    sess = WorkerSession([ref], "anchor", OutputSpec(24, 16, 1, 1), seed=0)
    camera = Camera(_pose(0.1, (0.2, 0.0, 0.1)), K)
    calls = []
    for module in (views_module, pointcloud_module):
        for name in ("validate_rigid", "invert_rigid"):
            real = getattr(module, name)
            monkeypatch.setattr(module, name, lambda *a, _r=real, _n=name, **k: calls.append(_n) or _r(*a, **k))
    frame = sess.render(camera, depth=np.full((32, 48), 3.0, np.float32), keyframe=True)
    assert frame.rgb.shape == (16, 24, 3)
    assert sess.references[-1].keyframe and sess.references[-1].camera.c2w is camera.c2w
    assert calls == []


def test_a_recorded_frame_reads_back_as_a_posed_view(tmp_path):
    from worldbridge.recording import load_dataset

    ds = load_dataset(record_synthetic_scene(tmp_path, frames=4, size=32, width=48))
    view = ds.read_view(2)
    np.testing.assert_array_equal(view.camera.c2w, ds.frames[2].c2w_cv)
    assert view.rgb.shape == (32, 48, 3) and view.depth.dtype == np.float32
    raw = ds.read_depth(2)
    sky = ds.read_view(2, sky_as_inf=True).depth
    assert np.array_equal(np.isinf(sky), raw <= 0)
    np.testing.assert_array_equal(sky[raw > 0], raw[raw > 0])


def test_an_engine_view_keeps_the_engine_pose_beside_the_opencv_camera():
    engine = _pose()
    engine[:3, 3] *= 100.0  # Unreal: centimetres
    frame = EngineView.from_engine(engine, Convention.UNREAL, K, np.zeros((32, 48, 3), np.uint8))
    np.testing.assert_array_equal(frame.engine_c2w, engine)
    assert frame.convention is Convention.UNREAL and not frame.engine_c2w.flags.writeable
    np.testing.assert_allclose(frame.view.camera.c2w, to_opencv_c2w(engine, Convention.UNREAL))
    with pytest.raises(PoseError, match="non-finite"):
        EngineView.from_engine(np.full((4, 4), np.nan), Convention.UNREAL, K)


def test_a_recorded_engine_view_reads_back_as_sent(tmp_path):
    from worldbridge.recording import DatasetWriter, load_dataset

    engine = _pose()
    rgb = np.random.default_rng(3).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    depth = np.full((32, 48), 2.5, np.float32)
    with DatasetWriter(tmp_path, "typed") as writer:
        assert writer.add_view(EngineView.from_engine(engine, Convention.UNITY, K, rgb, depth), 7, 3) == 0
        with pytest.raises(ValueError, match="needs rgb"):
            writer.add_view(EngineView.from_engine(engine, Convention.UNITY, K), 8, 4)
        with pytest.raises(ValueError, match="timestamp_us must be an integer"):
            writer.add_view(EngineView.from_engine(engine, Convention.UNITY, K, rgb, depth), 1.5, 5)
    ds = load_dataset(tmp_path / "typed")
    assert len(ds) == 1
    f = ds.frames[0]
    np.testing.assert_allclose(f.engine_c2w, engine, atol=1e-6)
    assert f.convention == Convention.UNITY and f.sequence == 3
    np.testing.assert_allclose(f.c2w_cv, to_opencv_c2w(engine, Convention.UNITY), atol=1e-6)
    np.testing.assert_array_equal(ds.read_rgb(0), rgb)
