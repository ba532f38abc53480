"""Recording through the gRPC call: datasets on disk, bad frames, names, cut-off clients."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import grpc
import numpy as np
import pytest

from worldbridge.client import BridgeClient, CapturedView, depth_message, hello, pose_message, rgb_message
from worldbridge.geometry import Convention, Intrinsics, to_opencv_c2w
from worldbridge.recording import load_dataset
from worldbridge.v1 import camera_pb2, recording_pb2


def _views(n, size=32):
    rng = np.random.default_rng(0)
    k = Intrinsics.from_horizontal_fov(90, size, size)
    for i in range(n):
        c2w = np.eye(4)
        c2w[:3, 3] = [100.0 * i, 0, 50]  # Unreal centimetres
        yield CapturedView(rgb=rng.integers(0, 256, (size, size, 3), dtype=np.uint8),
                           depth=np.full((size, size), 2.0 + i, np.float32), c2w=c2w,
                           convention=Convention.UNREAL, intrinsics=k)


def test_record_and_load(gateway):
    views = list(_views(6))
    with BridgeClient(gateway.target) as c:
        r = c.record("level1-take1", iter(views), description="the courtyard, dusk")
    assert r.frames_written == 6 and not r.rejected
    ds = load_dataset(r.path)
    assert len(ds) == 6
    assert ds.info["metadata"]["description"] == "the courtyard, dusk"  # the header's, kept
    for i, v in enumerate(views):
        np.testing.assert_array_equal(ds.read_rgb(i), v.rgb)
        np.testing.assert_allclose(ds.read_depth(i), v.depth, atol=1e-3)
        np.testing.assert_allclose(ds[i].c2w_cv, to_opencv_c2w(v.c2w, Convention.UNREAL), atol=1e-9)
        np.testing.assert_allclose(ds[i].engine_c2w, v.c2w)
    with BridgeClient(gateway.target) as c:
        with pytest.raises(grpc.RpcError) as e:
            c.record("level1-take1", iter(views[:1]))
    assert e.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert len(load_dataset(r.path)) == 6  # the existing recording is untouched


@pytest.mark.parametrize("name", ["../escape", "/etc", "a/b", "..", "", "x" * 200])
def test_names_cannot_escape(gateway, name):
    with BridgeClient(gateway.target) as c:
        with pytest.raises(grpc.RpcError) as e:
            c.record(name, _views(1))
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert not (gateway.config.data_dir.parent / "escape").exists()


def test_bad_frames_are_rejected_and_the_rest_kept(gateway):
    good = list(_views(3))

    def requests():
        yield recording_pb2.RecordRequest(header=recording_pb2.RecordingHeader(hello=hello(), dataset_name="mixed"))
        for i, v in enumerate(good):
            f = recording_pb2.CapturedFrame(sequence=i, pose=pose_message(v.c2w, v.convention),
                                            intrinsics=camera_pb2.Intrinsics(fx=v.intrinsics.fx, fy=v.intrinsics.fy,
                                                                             cx=16, cy=16, width=32, height=32),
                                            rgb=rgb_message(v.rgb), depth=depth_message(v.depth))
            if i == 1:
                nan = recording_pb2.CapturedFrame()
                nan.CopyFrom(f)
                nan.pose.camera_to_world[0] = float("nan")
                yield recording_pb2.RecordRequest(frame=nan)
                f.sequence = 10
                f.depth.data = f.depth.data[:10]
            yield recording_pb2.RecordRequest(frame=f)

    with BridgeClient(gateway.target) as c:
        s = c.stub.RecordTrajectory(requests())
    assert s.frames_written == 2
    assert [(r.sequence, r.code) for r in s.rejected] == [(1, 3), (10, 3)]
    assert "non-finite" in s.rejected[0].message and "bytes" in s.rejected[1].message
    ds = load_dataset(s.path)
    assert [f.sequence for f in ds] == [0, 2]


def test_client_killed_mid_recording_keeps_every_received_frame(gateway, tmp_path):
    """A client process SIGKILLed mid-stream: the dataset loads with the frames that reached
    the server, none half-written."""
    script = tmp_path / "client.py"
    script.write_text(textwrap.dedent(f"""
        import sys, time, numpy as np
        sys.path.insert(0, {str(os.path.dirname(__file__))!r})
        from test_recording_rpc import _views
        from worldbridge.client import BridgeClient
        def slow():
            for i, v in enumerate(_views(1000)):
                print(i, flush=True)
                yield v
                time.sleep(0.01)
        with BridgeClient({gateway.target!r}) as c:
            c.record("cut-off", slow())
    """))
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    sent = 0
    for line in proc.stdout:
        sent = int(line) + 1
        if sent >= 40:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    path = gateway.config.data_dir / "cut-off"
    deadline = time.monotonic() + 20
    while True:  # the server notices the dead client and finalises
        try:
            ds = load_dataset(path)
            if len(ds) >= 30:
                break
        except Exception:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("dataset did not become loadable")
        time.sleep(0.1)
    time.sleep(1.0)
    ds = load_dataset(path)
    assert 30 <= len(ds) <= sent
    assert [f.sequence for f in ds] == list(range(len(ds)))
    for i in range(len(ds)):
        assert ds.read_rgb(i).shape == (32, 32, 3)
