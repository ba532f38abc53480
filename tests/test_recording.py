"""Tests of the trajectory recorder: round trip, nerfstudio schema, names, crash safety."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from worldbridge.geometry import Convention, Intrinsics, from_opencv_c2w, invert_rigid
from worldbridge.recording import (
    DatasetError,
    DatasetExistsError,
    DatasetNameError,
    DatasetNotFoundError,
    DatasetWriter,
    RecordingError,
    load_dataset,
    repair_dataset,
    update_dataset_metadata,
)
from worldbridge.recording.journal import read_journal
from worldbridge.recording.ordered_pool import OrderedWritePool

MM_TOL = 0.0005 + 1e-5
"""Depth is stored in whole millimetres: half a millimetre plus float32 rounding at 65 m."""


def _rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def _pose(rng: np.random.Generator) -> np.ndarray:
    m = np.eye(4)
    m[:3, :3] = _rotation(rng)
    m[:3, 3] = rng.uniform(-20, 20, 3)
    return m


def _frame(index: int, h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic content for frame ``index`` (the crash test's child uses the same)."""
    rng = np.random.default_rng(index)
    rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    depth = rng.uniform(0.1, 60.0, (h, w)).astype(np.float32)
    depth[0, :] = 0.0
    return rgb, depth


_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    from worldbridge.geometry import Convention, Intrinsics
    from worldbridge.recording import DatasetWriter

    def frame(index, h, w):
        rng = np.random.default_rng(index)
        rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        depth = rng.uniform(0.1, 60.0, (h, w)).astype(np.float32)
        depth[0, :] = 0.0
        return rgb, depth

    def ack(index):
        sys.stdout.write(f"{index}\\n")
        sys.stdout.flush()

    K = Intrinsics(100.0, 100.0, 48.0, 40.0, 96, 80)
    writer = DatasetWriter(sys.argv[1], sys.argv[2], num_workers=2, max_pending=8,
                           transforms_interval_s=0.0, on_commit=ack)
    i = 0
    while True:
        rgb, depth = frame(i, 80, 96)
        pose = np.eye(4)
        pose[:3, 3] = [0.01 * i, 0.0, 0.0]
        writer.add_frame(rgb, depth, K, pose, pose, Convention.OPENCV, i * 1000, i)
        i += 1
""")


@pytest.fixture
def intr() -> Intrinsics:
    return Intrinsics(50.0, 52.0, 31.5, 24.25, 64, 48)


# --------------------------------------------------------------------------- round trip
def test_round_trip_poses_intrinsics_rgb_depth(tmp_path: Path, intr: Intrinsics) -> None:
    rng = np.random.default_rng(0)
    small = Intrinsics(20.0, 20.0, 16.0, 12.0, 32, 24)
    sent = []
    with DatasetWriter(tmp_path, "run-1", metadata={"level": "L1"}) as writer:
        for i in range(6):
            k = small if i == 4 else intr
            rgb, depth = _frame(i, k.height, k.width)
            depth[1, 0], depth[1, 1], depth[1, 2] = np.inf, np.nan, -3.0  # invalid -> 0
            depth[2, :3] = [65.535, 65.6, 1000.0]  # the last two are beyond uint16 mm
            if i == 3:
                depth = None
            conv = [Convention.UNREAL, Convention.UNITY, Convention.OPENGL, Convention.OPENCV][i % 4]
            c2w = _pose(rng)
            engine = from_opencv_c2w(c2w, conv)
            assert writer.add_frame(rgb, depth, k, c2w, engine, conv, 10_000 * i + 7, 100 + i) == i
            sent.append((k, rgb, depth, c2w, engine, conv))
    ds = load_dataset(tmp_path / "run-1")
    assert len(ds) == 6 and ds.complete and ds.source == "transforms.json"
    assert ds.info["metadata"] == {"level": "L1"} and ds.info["depth_unit"] == "mm"
    for i, (k, rgb, depth, c2w, engine, conv) in enumerate(sent):
        f = ds.frames[i]
        assert f.index == i and f.intrinsics == k
        np.testing.assert_array_equal(f.c2w_cv, c2w)  # exact: JSON floats round-trip
        np.testing.assert_array_equal(f.engine_c2w, engine)
        assert f.convention is conv and f.timestamp_us == 10_000 * i + 7 and f.sequence == 100 + i
        np.testing.assert_array_equal(ds.read_rgb(i), rgb)
        got = ds.read_depth(i)
        assert got.dtype == np.float32 and got.shape == (k.height, k.width)
        if depth is None:
            assert not f.has_depth and not got.any()
            continue
        assert f.has_depth and f.depth_clipped_px == 2
        expect = np.where(np.isfinite(depth) & (depth > 0) & (depth < 65.5355), depth, 0.0)
        assert np.max(np.abs(got - expect)) <= MM_TOL  # rounded to the millimetre
        assert got[2, 0] == pytest.approx(65.535) and got[2, 1] == 0 and got[2, 2] == 0


def test_add_frame_copies_its_arrays(tmp_path: Path, intr: Intrinsics) -> None:
    rgb, depth = _frame(0, intr.height, intr.width)
    original = rgb.copy(), depth.copy()
    with DatasetWriter(tmp_path, "copy", max_pending=4) as writer:
        writer.add_frame(rgb, depth, intr, np.eye(4), np.eye(4), Convention.OPENCV, 0, 0)
        rgb[:] = 0
        depth[:] = 1.0
    ds = load_dataset(tmp_path / "copy")
    np.testing.assert_array_equal(ds.read_rgb(0), original[0])
    assert abs(float(ds.read_depth(0)[5, 5]) - float(original[1][5, 5])) <= MM_TOL


@pytest.mark.parametrize("bad", [
    {"rgb": np.zeros((48, 64, 3), np.float32)},
    {"rgb": np.zeros((48, 63, 3), np.uint8)},
    {"rgb": np.zeros((48, 64, 4), np.uint8)},
    {"depth": np.zeros((47, 64), np.float32)},
    {"depth": np.zeros((48, 64), np.uint16)},
    {"c2w_cv": np.diag([2.0, 2.0, 2.0, 1.0])},
    {"c2w_cv": np.diag([1.0, 1.0, -1.0, 1.0])},
    {"engine_c2w": np.full((4, 4), np.nan)},
    {"convention": Convention.UNSPECIFIED},
    {"convention": 99},
    {"timestamp_us": 1.5},
    {"sequence": "3"},
])
def test_add_frame_rejects_bad_input(tmp_path: Path, intr: Intrinsics, bad: dict) -> None:
    args = dict(rgb=np.zeros((48, 64, 3), np.uint8), depth=np.ones((48, 64), np.float32),
                intrinsics=intr, c2w_cv=np.eye(4), engine_c2w=np.eye(4),
                convention=Convention.OPENCV, timestamp_us=0, sequence=0)
    args.update(bad)
    with DatasetWriter(tmp_path, "bad") as writer:
        with pytest.raises(ValueError):
            writer.add_frame(**args)
        assert writer.num_submitted == 0
    assert len(load_dataset(tmp_path / "bad")) == 0


# --------------------------------------------------------------------- nerfstudio schema
def test_transforms_json_matches_nerfstudio_schema(tmp_path: Path, intr: Intrinsics) -> None:
    rng = np.random.default_rng(1)
    with DatasetWriter(tmp_path, "ns") as writer:
        for i in range(3):
            rgb, depth = _frame(i, intr.height, intr.width)
            c2w = _pose(rng)
            writer.add_frame(rgb, depth, intr, c2w, c2w, Convention.OPENCV, i, i)
    root = tmp_path / "ns"
    meta = json.loads((root / "transforms.json").read_text())
    # nerfstudio: camera_model must be a key of CAMERA_MODEL_TO_TYPE; OPENCV = pinhole.
    assert meta["camera_model"] == "OPENCV"
    assert not any(k in meta for k in ("k1", "k2", "k3", "p1", "p2"))
    wb = meta["worldbridge"]
    assert wb["complete"] is True and wb["num_frames"] == 3 and wb["version"] == 1
    assert wb["depth_unit"] == "mm" and wb["depth_unit_scale_factor"] == 1e-3
    names = [f["file_path"] for f in meta["frames"]]
    assert names == sorted(names)  # nerfstudio sorts frames by file name
    for i, f in enumerate(meta["frames"]):
        # Per-frame intrinsics (nerfstudio asserts each when the top level lacks it).
        for key, typ in (("fl_x", float), ("fl_y", float), ("cx", float), ("cy", float),
                         ("w", int), ("h", int)):
            assert isinstance(f[key], typ), key
        assert (f["w"], f["h"]) == (64, 48)
        assert f["file_path"] == f"images/frame_{i:05d}.png"
        assert f["depth_file_path"] == f"depth/frame_{i:05d}.png"
        m = np.array(f["transform_matrix"])
        assert m.shape == (4, 4) and np.allclose(m[3], [0, 0, 0, 1])
        assert {"engine_transform_matrix", "engine_convention", "timestamp_us",
                "sequence"} <= f.keys()
        # How nerfstudio loads the files: PIL for images, cv2 ANYDEPTH * 1e-3 for depth.
        img = Image.open(root / f["file_path"])
        assert img.mode == "RGB" and img.size == (64, 48)
        np.testing.assert_array_equal(np.asarray(img), _frame(i, 48, 64)[0])
        raw = cv2.imread(str(root / f["depth_file_path"]), cv2.IMREAD_ANYDEPTH)
        assert raw.dtype == np.uint16
        np.testing.assert_allclose(raw * 1e-3, _frame(i, 48, 64)[1], atol=MM_TOL)


def test_transform_matrix_is_opengl_camera_to_world(tmp_path: Path, intr: Intrinsics) -> None:
    # An OpenCV camera at (1, 2, 3) looking down world +X, image-down = world -Z.
    c2w = np.eye(4)
    c2w[:3, :3] = np.column_stack([[0, -1, 0], [0, 0, -1], [1, 0, 0]])  # x_cam, y_cam, z_cam
    c2w[:3, 3] = [1.0, 2.0, 3.0]
    with DatasetWriter(tmp_path, "gl") as writer:
        writer.add_frame(*_frame(0, 48, 64), intr, c2w, c2w, Convention.OPENCV, 0, 0)
    gl = np.array(json.loads((tmp_path / "gl" / "transforms.json").read_text())
                  ["frames"][0]["transform_matrix"])
    np.testing.assert_allclose(-gl[:3, 2], [1, 0, 0])  # OpenGL looks down its -Z column
    np.testing.assert_allclose(gl[:3, 1], [0, 0, 1])   # OpenGL +Y is image-up = world +Z
    np.testing.assert_allclose(gl[:3, 0], c2w[:3, 0])  # X right in both
    np.testing.assert_allclose(gl[:3, 3], [1, 2, 3])   # same centre, metres
    # A world point projects to the same pixel with OpenCV's K and with nerfstudio's
    # camera model (ray direction [(u - cx) / fx, -(v - cy) / fy, -1] in camera space).
    p = np.array([6.0, 1.5, 2.2, 1.0])
    x, y, z = (invert_rigid(c2w) @ p)[:3]
    u_cv, v_cv = intr.fx * x / z + intr.cx, intr.fy * y / z + intr.cy
    xg, yg, zg = (invert_rigid(gl) @ p)[:3]
    assert zg < 0  # in front of an OpenGL camera
    u_ns, v_ns = intr.cx + intr.fx * xg / -zg, intr.cy - intr.fy * yg / -zg
    assert (u_ns, v_ns) == pytest.approx((u_cv, v_cv))


# ------------------------------------------------------------------------------- names
@pytest.mark.parametrize("name", ["../x", "/abs", "a/b", "..", ".", "", "a" * 129, ".hidden",
                                  "a\\b", "x\x00", "sp ace", "é", None, 3])
def test_bad_names_rejected(tmp_path: Path, name) -> None:
    with pytest.raises(DatasetNameError) as info:
        DatasetWriter(tmp_path / "root", name)
    assert repr(name) in str(info.value)
    assert not (tmp_path / "root").exists() or not any((tmp_path / "root").iterdir())


def test_name_limits_and_symlink_escape(tmp_path: Path) -> None:
    DatasetWriter(tmp_path, "a" * 128).close()
    DatasetWriter(tmp_path, "v1.2_take-3").close()
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "evil").symlink_to(outside)
    with pytest.raises(DatasetNameError, match="'evil'"):
        DatasetWriter(root, "evil")
    assert not any(outside.iterdir())


def test_existing_dataset_is_never_overwritten(tmp_path: Path, intr: Intrinsics) -> None:
    with DatasetWriter(tmp_path, "take") as writer:
        writer.add_frame(*_frame(0, 48, 64), intr, np.eye(4), np.eye(4), Convention.OPENCV, 0, 0)
    before = {p: p.read_bytes() for p in (tmp_path / "take").rglob("*") if p.is_file()}
    with pytest.raises(DatasetExistsError, match="take"):
        DatasetWriter(tmp_path, "take")
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetExistsError):
        DatasetWriter(tmp_path, "file")
    after = {p: p.read_bytes() for p in (tmp_path / "take").rglob("*") if p.is_file()}
    assert before == after


# ------------------------------------------------------------------------ crash safety
@pytest.mark.parametrize("acks_before_kill", [1, 9, 30])
def test_sigkill_mid_recording_keeps_every_acknowledged_frame(tmp_path: Path,
                                                               acks_before_kill: int) -> None:
    name = f"crash{acks_before_kill}"
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(tmp_path), name],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    acked = []
    try:
        while len(acked) < acks_before_kill:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"child exited early: {proc.stderr.read()}")
            acked.append(int(line))
        time.sleep(random.Random(acks_before_kill).uniform(0.0, 0.02))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    acked += [int(x) for x in proc.stdout.read().split()]  # acks printed before the kill
    assert acked == list(range(len(acked)))
    root = tmp_path / name
    # transforms.json is always whole (atomic rewrites), but may lag the journal.
    assert len(json.loads((root / "transforms.json").read_text())["frames"]) <= len(acked) + 8
    ds = load_dataset(root)
    assert not ds.complete and ds.source == "frames.jsonl"
    assert len(ds) >= len(acked)  # every acknowledged frame; maybe one committed unprinted
    for i in range(len(ds)):
        rgb, depth = _frame(i, 80, 96)
        np.testing.assert_array_equal(ds.read_rgb(i), rgb)
        np.testing.assert_allclose(ds.read_depth(i), depth, atol=MM_TOL)
        assert ds.frames[i].c2w_cv[0, 3] == pytest.approx(0.01 * i)
    report = repair_dataset(root)
    assert report.num_frames == len(ds)
    repaired = load_dataset(root)
    assert repaired.complete and repaired.source == "transforms.json" and len(repaired) == len(ds)
    assert not list(root.rglob(".*.tmp"))


def test_torn_last_journal_line_is_ignored_and_repaired(tmp_path: Path, intr: Intrinsics) -> None:
    with DatasetWriter(tmp_path, "torn") as writer:
        for i in range(3):
            writer.add_frame(*_frame(i, 48, 64), intr, np.eye(4), np.eye(4), Convention.OPENCV,
                             i, i)
    root = tmp_path / "torn"
    # Simulate a crash: transforms.json behind (1 frame, incomplete), a torn line appended.
    meta = json.loads((root / "transforms.json").read_text())
    meta["frames"] = meta["frames"][:1]
    meta["worldbridge"]["complete"] = False
    (root / "transforms.json").write_text(json.dumps(meta))
    with open(root / "frames.jsonl", "ab") as f:
        f.write(b'{"frame_index":3,"file_path":"images/frame_000')
    (root / "images" / ".frame_00003.png.tmp").write_bytes(b"\x89PNG partial")
    ds = load_dataset(root)
    assert len(ds) == 3 and ds.source == "frames.jsonl" and not ds.complete
    report = repair_dataset(root)
    assert report.num_frames == 3 and report.torn_line_removed
    assert report.temp_files_removed == 1
    assert (root / "frames.jsonl").read_bytes().endswith(b"}\n")
    assert read_journal(root / "frames.jsonl").torn_tail is False
    fixed = load_dataset(root)
    assert fixed.complete and len(fixed) == 3 and fixed.info["repaired"] is True


def test_corrupt_journal_line_before_the_last_is_an_error(tmp_path: Path,
                                                          intr: Intrinsics) -> None:
    writer = DatasetWriter(tmp_path, "c")
    for i in range(3):
        writer.add_frame(*_frame(i, 48, 64), intr, np.eye(4), np.eye(4), Convention.OPENCV, i, i)
    writer.flush()
    lines = (tmp_path / "c" / "frames.jsonl").read_bytes().split(b"\n")
    lines[1] = b"{garbage"
    writer.close()
    (tmp_path / "c" / "frames.jsonl").write_bytes(b"\n".join(lines))
    (tmp_path / "c" / "transforms.json").unlink()
    with pytest.raises(DatasetError, match=r"frames\.jsonl line 2"):
        load_dataset(tmp_path / "c")


def test_close_stores_every_queued_frame(tmp_path: Path) -> None:
    k = Intrinsics(40.0, 40.0, 32.0, 32.0, 64, 64)
    committed = []
    writer = DatasetWriter(tmp_path, "drain", num_workers=2, max_pending=2,
                           on_commit=committed.append)
    rgb, depth = _frame(0, 64, 64)
    n = 40
    for i in range(n):
        writer.add_frame(rgb, depth, k, np.eye(4), np.eye(4), Convention.OPENCV, i, i)
    writer.close()  # what the servicer does when the client disconnects
    assert committed == list(range(n)) and writer.num_committed == n
    assert len(load_dataset(tmp_path / "drain")) == n
    assert len(list((tmp_path / "drain" / "images").iterdir())) == n
    with pytest.raises(RecordingError, match="closed"):
        writer.add_frame(rgb, depth, k, np.eye(4), np.eye(4), Convention.OPENCV, 0, 0)


def test_flush_and_reading_while_recording(tmp_path: Path, intr: Intrinsics) -> None:
    writer = DatasetWriter(tmp_path, "live", transforms_interval_s=3600.0,
                           on_commit=lambda i: 1 / 0)  # a failing callback is only logged
    for i in range(4):
        writer.add_frame(*_frame(i, 48, 64), intr, np.eye(4), np.eye(4), Convention.OPENCV, i, i)
    writer.flush()
    meta = json.loads((tmp_path / "live" / "transforms.json").read_text())
    assert len(meta["frames"]) == 4 and meta["worldbridge"]["complete"] is False
    live = load_dataset(tmp_path / "live")
    assert len(live) == 4 and live.source == "frames.jsonl" and not live.complete
    writer.close()
    assert load_dataset(tmp_path / "live").complete


def test_context_manager_stores_frames_when_the_body_raises(tmp_path: Path,
                                                            intr: Intrinsics) -> None:
    with pytest.raises(KeyError):
        with DatasetWriter(tmp_path, "exc") as writer:
            for i in range(3):
                writer.add_frame(*_frame(i, 48, 64), intr, np.eye(4), np.eye(4),
                                 Convention.OPENCV, i, i)
            raise KeyError("client went away")
    ds = load_dataset(tmp_path / "exc")
    assert len(ds) == 3 and ds.complete


def test_background_failure_keeps_the_prefix(tmp_path: Path, intr: Intrinsics,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import worldbridge.recording.dataset_writer as dw

    real = dw.encode_rgb_png

    def flaky(bgr):
        if bgr[0, 0, 0] == 77:
            raise OSError(28, "No space left on device")
        return real(bgr)

    monkeypatch.setattr(dw, "encode_rgb_png", flaky)
    writer = DatasetWriter(tmp_path, "fail", num_workers=2)
    for i in range(8):
        rgb = np.full((48, 64, 3), 77 if i == 3 else i, np.uint8)
        try:
            writer.add_frame(rgb, None, intr, np.eye(4), np.eye(4), Convention.OPENCV, i, i)
        except RecordingError:
            break
    with pytest.raises(RecordingError, match="frame 3") as info:
        writer.close()
    assert isinstance(info.value.__cause__, OSError)
    ds = load_dataset(tmp_path / "fail")
    assert len(ds) == 3 and not ds.complete


# ------------------------------------------------------------------ errors and readers
def test_missing_and_corrupt_datasets_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(DatasetNotFoundError, match="nope"):
        load_dataset(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetNotFoundError, match="empty"):
        load_dataset(tmp_path / "empty")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "transforms.json").write_text("{not json")
    with pytest.raises(DatasetError, match="bad"):
        load_dataset(tmp_path / "bad")
    with pytest.raises(DatasetNotFoundError):
        repair_dataset(tmp_path / "bad")


def test_missing_image_is_reported(tmp_path: Path, intr: Intrinsics) -> None:
    with DatasetWriter(tmp_path, "m") as writer:
        writer.add_frame(*_frame(0, 48, 64), intr, np.eye(4), np.eye(4), Convention.OPENCV, 0, 0)
    (tmp_path / "m" / "depth" / "frame_00000.png").unlink()
    with pytest.raises(DatasetError, match="frame_00000.png"):
        load_dataset(tmp_path / "m")


def test_update_dataset_metadata_merges_keys_and_keeps_the_frames(tmp_path: Path,
                                                                  intr: Intrinsics) -> None:
    with DatasetWriter(tmp_path, "m", metadata={"level": "L1", "kind": "?"}) as writer:
        for i in range(3):
            writer.add_frame(*_frame(i, 48, 64), intr, np.eye(4), np.eye(4), Convention.OPENCV,
                             i, i)
    before = load_dataset(tmp_path / "m")
    file = tmp_path / "m" / "transforms.json"
    frames_before = json.loads(file.read_text())["frames"]
    stored = update_dataset_metadata(tmp_path / "m", {"kind": "orbit", "layout": {"props": []}})
    assert stored == {"level": "L1", "kind": "orbit", "layout": {"props": []}}
    after = load_dataset(file)
    assert after.info["metadata"] == stored and after.complete
    assert {k: v for k, v in after.info.items() if k != "metadata"} == \
        {k: v for k, v in before.info.items() if k != "metadata"}
    assert json.loads(file.read_text())["frames"] == frames_before
    np.testing.assert_array_equal(after.read_rgb(2), before.read_rgb(2))
    with pytest.raises(TypeError):
        update_dataset_metadata(tmp_path / "m", {"bad": object()})
    with pytest.raises(DatasetNotFoundError, match="nope"):
        update_dataset_metadata(tmp_path / "nope", {})
    writer = DatasetWriter(tmp_path, "open")  # still recording: not complete
    try:
        with pytest.raises(DatasetError, match="not complete"):
            update_dataset_metadata(tmp_path / "open", {"a": 1})
    finally:
        writer.close()
    assert update_dataset_metadata(tmp_path / "open", {"a": 1}) == {"a": 1}


def test_plain_nerfstudio_dataset_loads(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    rgb = _frame(0, 24, 32)[0]
    Image.fromarray(rgb).save(tmp_path / "images" / "a.png")
    gl = np.eye(4)
    gl[:3, 3] = [1, 2, 3]
    (tmp_path / "transforms.json").write_text(json.dumps({
        "camera_model": "OPENCV", "fl_x": 30, "fl_y": 30, "cx": 16, "cy": 12, "w": 32, "h": 24,
        "frames": [{"file_path": "images/a.png", "transform_matrix": gl.tolist()}]}))
    ds = load_dataset(tmp_path / "transforms.json")
    assert len(ds) == 1 and ds.frames[0].convention is Convention.OPENGL
    np.testing.assert_array_equal(ds.frames[0].engine_c2w, gl)
    np.testing.assert_array_equal(ds.frames[0].c2w_cv, gl @ np.diag([1, -1, -1, 1]))
    np.testing.assert_array_equal(ds.read_rgb(0), rgb)
    with pytest.raises(DatasetError, match="no depth"):
        ds.read_depth(0)


def test_ordered_pool_commits_in_order() -> None:
    rng = random.Random(0)
    order = []

    def work(job):
        time.sleep(rng.uniform(0, 0.003))  # finish out of order
        return job * 10

    pool = OrderedWritePool(work, lambda i, r: order.append((i, r)), num_workers=3, max_pending=2)
    for i in range(60):
        assert pool.submit(lambda index: index) == i
    pool.close()
    assert order == [(i, i * 10) for i in range(60)] and pool.committed == 60


def test_ordered_pool_submit_blocks_when_full() -> None:
    gate = threading.Event()
    pool = OrderedWritePool(lambda job: gate.wait(), lambda i, r: None, num_workers=1,
                            max_pending=2)
    for _ in range(3):  # one running, two queued
        pool.submit(lambda index: index)
    time.sleep(0.05)
    blocked = threading.Thread(target=pool.submit, args=(lambda index: index,))
    blocked.start()
    blocked.join(0.2)
    assert blocked.is_alive() and pool.submitted == 3  # blocked, nothing dropped
    gate.set()
    blocked.join(5)
    pool.close()
    assert pool.committed == 4
