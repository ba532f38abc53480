"""End to end through the real gateway and real worker processes: handshake, health,
reflection, sessions, frames, pacing, concurrency and bad input."""

from __future__ import annotations

import threading
import time

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from worldbridge import PROTOCOL_VERSION
from worldbridge.client import BridgeClient, PoseRequest, ReferenceView, depth_message, hello, pose_message
from worldbridge.geometry import Convention
from worldbridge.v1 import camera_pb2, frames_pb2, handshake_pb2, image_pb2, session_pb2
from worldbridge.wire.texture import RowOrder, TextureFormat


def test_server_info_and_handshake(gateway):
    with BridgeClient(gateway.target) as c:
        info = c.info
        assert (info.protocol.major, info.protocol.minor) == PROTOCOL_VERSION
        assert "anchor" in [g.name for g in info.generators if g.available]
        assert info.limits.max_message_bytes == 64 * 1024 * 1024
        assert len(info.workers) == 2 and all(w.serving for w in info.workers)
        assert "pacing.newest_wins" in info.capabilities
        bad = handshake_pb2.GetServerInfoRequest(
            hello=handshake_pb2.ClientHello(protocol=handshake_pb2.ProtocolVersion(major=PROTOCOL_VERSION[0] + 1)))
        with pytest.raises(grpc.RpcError) as e:
            c.stub.GetServerInfo(bad)
        assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert f"client {PROTOCOL_VERSION[0] + 1}.0" in e.value.details()
        assert f"server {PROTOCOL_VERSION[0]}.{PROTOCOL_VERSION[1]}" in e.value.details()
        minor = handshake_pb2.GetServerInfoRequest(hello=handshake_pb2.ClientHello(
            protocol=handshake_pb2.ProtocolVersion(major=PROTOCOL_VERSION[0], minor=PROTOCOL_VERSION[1] + 3)))
        assert "minor version differs" in c.stub.GetServerInfo(minor).warnings[0]


def test_health_and_reflection(gateway):
    with grpc.insecure_channel(gateway.target) as ch:
        health = health_pb2_grpc.HealthStub(ch)
        for name in ("", "worldbridge.v1.WorldBridge", "worldbridge.worker.worker-0", "worldbridge.worker.worker-1"):
            r = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
            assert r.status == health_pb2.HealthCheckResponse.SERVING, name
        refl = reflection_pb2_grpc.ServerReflectionStub(ch)
        resp = next(refl.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
        names = {s.name for s in resp.list_services_response.service}
        assert {"worldbridge.v1.WorldBridge", "grpc.health.v1.Health"} <= names


def test_frames_have_requested_format_size_and_timings(gateway, plane):
    with BridgeClient(gateway.target) as c:
        for fmt, order in [(TextureFormat.RGBA8, RowOrder.TOP_DOWN), (TextureFormat.BGRA8, RowOrder.TOP_DOWN),
                           (TextureFormat.RGBA8, RowOrder.BOTTOM_UP), (TextureFormat.PNG, RowOrder.TOP_DOWN)]:
            s = c.open_session([plane.view()], width=48, height=40, texture_format=fmt, row_order=order)
            assert s.anchor_points == 64 * 64
            f = s.render(PoseRequest(plane.pose(), Convention.OPENCV))
            assert f.error is None
            assert (f.texture.width, f.texture.height, f.texture.format) == (48, 40, fmt)
            assert f.rgb.shape == (40, 48, 3)
            if fmt in (TextureFormat.RGBA8, TextureFormat.BGRA8):
                assert len(f.texture.data) == 48 * 40 * 4
            assert f.coverage > 0.99
            assert f.timings_ms["server_total"] > 0 and f.timings_ms["round_trip"] >= f.timings_ms["server_total"]
            assert s.close() == 1


def test_identity_pose_returns_the_reference_view(gateway, plane):
    with BridgeClient(gateway.target) as c:
        s = c.open_session([plane.view()])
        f = s.render(PoseRequest(plane.pose(), Convention.OPENCV))
        np.testing.assert_array_equal(f.rgb, plane.rgb)
        # a still camera gives a still image
        g = s.render(PoseRequest(plane.pose(), Convention.OPENCV))
        np.testing.assert_array_equal(f.rgb, g.rgb)
        s.close()


def _req(session_id, seq, c2w, convention=Convention.OPENCV, **kw):
    return frames_pb2.FrameRequest(session_id=session_id, sequence=seq, pose=pose_message(c2w, convention), **kw)


def test_bad_requests_get_errors_and_the_stream_survives(gateway, plane):
    with BridgeClient(gateway.target) as c:
        s = c.open_session([plane.view()])
        sid = s.session_id
        nan = np.eye(4)
        nan[0, 3] = np.nan
        k64 = camera_pb2.Intrinsics(fx=55, fy=55, cx=32, cy=32, width=64, height=64)
        short_depth = depth_message(plane.depth)
        short_depth.data = short_depth.data[:-4]
        small_depth = depth_message(plane.depth[:32])
        huge = camera_pb2.Intrinsics(fx=5, fy=5, cx=1, cy=1, width=100000, height=4)
        requests = [
            _req(sid, 0, nan),
            _req(sid, 1, np.diag([1.0, 1.0, 2.0, 1.0])),
            _req(sid, 2, np.eye(4), convention=Convention.UNSPECIFIED),
            frames_pb2.FrameRequest(session_id=sid, sequence=3,
                                    pose=camera_pb2.CameraPose(camera_to_world=np.eye(4).ravel(), convention=17)),
            _req(sid, 4, np.eye(4), intrinsics=k64, depth=short_depth),
            _req(sid, 5, np.eye(4), intrinsics=k64, depth=small_depth),
            _req("no-such-session", 6, np.eye(4)),
            _req(sid, 7, np.eye(4), keyframe=True),
            _req(sid, 8, np.eye(4), intrinsics=huge),
            _req(sid, 9, np.eye(4)),
        ]
        frames = list(s.stream(requests))
        by_seq = {f.sequence: f for f in frames}
        assert sorted(by_seq) == list(range(10))
        expect = {0: ("INVALID_ARGUMENT", "non-finite"), 1: ("INVALID_ARGUMENT", "not rigid"),
                  2: ("INVALID_ARGUMENT", "UNSPECIFIED"), 3: ("INVALID_ARGUMENT", "unknown pose convention 17"),
                  4: ("INVALID_ARGUMENT", "needs 16384 bytes, got 16380"),
                  5: ("INVALID_ARGUMENT", "depth is 64x32 but the camera is 64x64"),
                  6: ("NOT_FOUND", "unknown session 'no-such-session'"),
                  7: ("INVALID_ARGUMENT", "keyframe requested without depth"),
                  8: ("INVALID_ARGUMENT", "exceeds the limit of 4096")}
        for seq, (code, text) in expect.items():
            assert by_seq[seq].error is not None and by_seq[seq].error.startswith(code), (seq, by_seq[seq].error)
            assert text in by_seq[seq].error, (seq, by_seq[seq].error)
        assert by_seq[9].error is None
        np.testing.assert_array_equal(by_seq[9].rgb, plane.rgb)
        s.close()


def test_oversized_message_is_refused_and_the_session_lives(gateway, plane):
    with BridgeClient(gateway.target) as c:
        s = c.open_session([plane.view()])
        big = frames_pb2.FrameRequest(session_id=s.session_id, sequence=0,
                                      pose=pose_message(np.eye(4), Convention.OPENCV),
                                      depth=image_pb2.DepthImage(data=b"\0" * (65 * 1024 * 1024)))
        with pytest.raises(grpc.RpcError) as e:
            list(s.stream([big]))
        assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        f = s.render(PoseRequest(plane.pose(), Convention.OPENCV))
        assert f.error is None
        s.close()


def test_open_session_errors(gateway, plane):
    with BridgeClient(gateway.target) as c:
        def open_with(**kw):
            req = session_pb2.OpenSessionRequest(hello=hello(), **kw)
            with pytest.raises(grpc.RpcError) as e:
                c.stub.OpenSession(req, timeout=10)
            return e.value

        assert open_with().code() == grpc.StatusCode.INVALID_ARGUMENT
        view = session_pb2.ReferenceView(
            rgb=image_pb2.Texture(width=64, height=64, format=TextureFormat.RGB8, data=plane.rgb.tobytes()),
            pose=pose_message(np.eye(4), Convention.OPENCV),
            intrinsics=dict(fx=plane.k.fx, fy=plane.k.fy, cx=plane.k.cx, cy=plane.k.cy, width=64, height=64),
            depth=depth_message(plane.depth))
        e = open_with(reference_views=[view], generator="nope")
        assert e.code() == grpc.StatusCode.INVALID_ARGUMENT and "unknown generator 'nope'" in e.details()
        no_depth = session_pb2.ReferenceView()
        no_depth.CopyFrom(view)
        no_depth.ClearField("depth")
        assert "no reference view carries depth" in open_with(reference_views=[no_depth]).details()
        req = session_pb2.OpenSessionRequest(reference_views=[view])  # no hello
        with pytest.raises(grpc.RpcError) as err:
            c.stub.OpenSession(req, timeout=10)
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        with pytest.raises(grpc.RpcError) as err:
            c.stub.CloseSession(session_pb2.CloseSessionRequest(session_id="gone"), timeout=10)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_newest_pose_wins(gateway, plane):
    """Poses sent faster than frames are made: overtaken ones are skipped and reported,
    every sequence is accounted for exactly once, and the last pose is always rendered."""
    with BridgeClient(gateway.target) as c:
        s = c.open_session([plane.view()], width=256, height=256)
        n = 200
        poses = [PoseRequest(plane.pose(dx=0.001 * i), Convention.OPENCV) for i in range(n)]
        frames = list(s.stream(poses, lockstep=False))
        rendered = [f.sequence for f in frames if f.error is None]
        skipped = [q for f in frames for q in f.skipped]
        assert sorted(rendered + skipped) == list(range(n))
        assert rendered[-1] == n - 1
        assert len(skipped) > 0, "a burst of 200 poses should overtake the renderer"
        assert rendered == sorted(rendered)
        s.close()


def test_eight_sessions_at_once_are_all_served(gateway, plane):
    results: dict[int, list[int]] = {}
    errors: list[BaseException] = []

    def engine(i: int) -> None:
        try:
            with BridgeClient(gateway.target) as c:
                s = c.open_session([plane.view()])
                frames = list(s.stream([PoseRequest(plane.pose(dx=0.01 * k), Convention.OPENCV)
                                        for k in range(15)]))
                results[i] = [f.sequence for f in frames if f.error is None]
                s.close()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=engine, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert all(results[i] == list(range(15)) for i in range(8)), results
    # sessions were spread over both workers
    with BridgeClient(gateway.target) as c:
        assert all(w.serving for w in c.info.workers)


def test_keyframes_grow_the_memory(gateway, plane):
    with BridgeClient(gateway.target) as c:
        s = c.open_session([plane.view()])
        moved = plane.pose(dx=1.0)
        before = s.render(PoseRequest(moved, Convention.OPENCV)).coverage
        s.render(PoseRequest(moved, Convention.OPENCV, intrinsics=plane.k, depth=plane.depth, keyframe=True))
        after = s.render(PoseRequest(moved, Convention.OPENCV)).coverage
        assert before < 0.9 and after > 0.99
        s.close()


def test_idle_sessions_are_closed_but_streaming_ones_kept(make_gateway, plane):
    from worldbridge.serving import ServerLimits

    gw = make_gateway(limits=ServerLimits(session_idle_timeout_s=0.5))
    with BridgeClient(gw.target) as c:
        idle = c.open_session([plane.view()])
        busy = c.open_session([plane.view()])

        def slow_poses():
            for i in range(8):
                time.sleep(0.2)  # 1.6 s of streaming, longer than the idle timeout
                yield PoseRequest(plane.pose(dx=0.01 * i), Convention.OPENCV)

        frames = list(busy.stream(slow_poses()))
        assert [f.error for f in frames] == [None] * 8
        with pytest.raises(grpc.RpcError) as e:
            idle.close()
        assert e.value.code() == grpc.StatusCode.NOT_FOUND
        assert busy.close() == 8


def test_sky_stays_in_place_when_the_camera_moves(gateway, plane):
    """Reference pixels with depth +inf (sky) are kept as directions: after a sideways move,
    the sky region still shows the sky colour instead of being filled from the ground."""
    rgb = plane.rgb.copy()
    depth = plane.depth.copy()
    rgb[:24] = (90, 160, 250)
    depth[:24] = np.inf
    view = ReferenceView(rgb=rgb, depth=depth, c2w=plane.c2w, convention=Convention.OPENCV, intrinsics=plane.k)
    with BridgeClient(gateway.target) as c:
        s = c.open_session([view])
        f = s.render(PoseRequest(plane.pose(dx=0.5), Convention.OPENCV))
        np.testing.assert_array_equal(f.rgb[:20], np.broadcast_to(np.uint8([90, 160, 250]), (20, 64, 3)))
        s.close()
