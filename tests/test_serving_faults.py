"""Serving under attack and faults (docs/security.md): exact session accounting, bounded memory,
undecodable input, recordings finalised, nothing left behind by a killed client, worker or gateway."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import numpy as np
import pytest
from helpers import wait_until

from worldbridge.client import BridgeClient, PoseRequest
from worldbridge.geometry import Convention
from worldbridge.serving import ServerLimits


def test_session_limit_holds_under_150_concurrent_opens(make_gateway, plane):
    limit = 64
    gw = make_gateway(workers=1, limits=ServerLimits(max_sessions=limit))
    with BridgeClient(gw.target) as c:
        def open_one(_):
            try:
                return c.open_session([plane.view()]).session_id
            except grpc.RpcError as e:
                return e.code()

        with ThreadPoolExecutor(max_workers=150) as pool:
            results = list(pool.map(open_one, range(150)))
    opened = [r for r in results if isinstance(r, str)]
    refused = [r for r in results if not isinstance(r, str)]
    assert len(opened) == limit and len(set(opened)) == limit
    assert set(refused) == {grpc.StatusCode.RESOURCE_EXHAUSTED}
    servicer = gw.gateway.servicer
    assert len(servicer.sessions) == limit and servicer.sessions.reserved == 0
    assert len(gw.gateway.pool.workers["worker-0"].sessions) == limit


def test_sessions_lost_with_a_worker_free_their_slots_at_once(make_gateway, plane):
    gw = make_gateway(workers=1, limits=ServerLimits(max_sessions=2), heartbeat_timeout_s=3.0)
    worker = gw.gateway.pool.workers["worker-0"]
    with BridgeClient(gw.target) as c:
        old = [c.open_session([plane.view()]) for _ in range(2)]
        with pytest.raises(grpc.RpcError) as e:
            c.open_session([plane.view()])
        assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        pid = worker.process.pid
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: worker.serving and worker.process.pid != pid)
        assert len(gw.gateway.servicer.sessions) == 0
        new = [c.open_session([plane.view()]) for _ in range(2)]  # both slots are free again
        assert all(s.render(PoseRequest(plane.pose(), Convention.OPENCV)).error is None for s in new)
        for s in old:  # the lost sessions still say why
            with pytest.raises(grpc.RpcError) as e:
                s.render(PoseRequest(plane.pose(), Convention.OPENCV))
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE and "died" in e.value.details()
        old[0].close()  # closing a lost session is answered, not refused
        assert gw.gateway.servicer.sessions.get(old[0].session_id) is None


def _raw_stream_call(target: str, method: str, payloads: list[bytes], unary_response: bool):
    """Send raw (possibly malformed) request bytes on a client-streaming method."""
    with grpc.insecure_channel(target) as ch:
        if unary_response:
            call = ch.stream_unary(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)
            return call(iter(payloads), timeout=30)
        call = ch.stream_stream(method, request_serializer=lambda b: b, response_deserializer=lambda b: b)
        return list(call(iter(payloads), timeout=30))


def test_an_undecodable_stream_message_is_invalid_argument_not_ok(make_gateway, plane):
    from worldbridge.client.messages import pose_message
    from worldbridge.v1 import frames_pb2

    gw = make_gateway(workers=1)
    with BridgeClient(gw.target) as c:
        s = c.open_session([plane.view()])
    good = frames_pb2.FrameRequest(session_id=s.session_id, sequence=0,
                                   pose=pose_message(plane.pose(), Convention.OPENCV)).SerializeToString()
    with pytest.raises(grpc.RpcError) as e:
        _raw_stream_call(gw.target, "/worldbridge.v1.WorldBridge/StreamFrames",
                         [good, b"\xff\xff\xff\xff", good], unary_response=False)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "request 1 of the stream is an undecodable worldbridge.v1.FrameRequest" in e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        _raw_stream_call(gw.target, "/worldbridge.v1.WorldBridge/RecordTrajectory", [b"\x0a\xff"],
                         unary_response=True)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "RecordRequest" in e.value.details()
    with grpc.insecure_channel(gw.target) as ch:
        call = ch.unary_unary("/worldbridge.v1.WorldBridge/CloseSession",
                              request_serializer=lambda b: b, response_deserializer=lambda b: b)
        with pytest.raises(grpc.RpcError) as e:
            call(b"\x0a\xff\xff", timeout=10)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "CloseSessionRequest" in e.value.details()


def test_a_recording_cut_by_an_undecodable_message_keeps_its_frames(make_gateway, plane, tmp_path):
    from worldbridge.client.messages import (
        depth_message,
        hello,
        intrinsics_message,
        pose_message,
        rgb_message,
    )
    from worldbridge.recording import load_dataset
    from worldbridge.v1 import recording_pb2

    gw = make_gateway(workers=0)
    header = recording_pb2.RecordRequest(header=recording_pb2.RecordingHeader(
        hello=hello(), dataset_name="cut_short")).SerializeToString()
    frames = [recording_pb2.RecordRequest(frame=recording_pb2.CapturedFrame(
        sequence=i, rgb=rgb_message(plane.rgb), depth=depth_message(plane.depth),
        pose=pose_message(plane.pose(dx=0.1 * i), Convention.OPENCV),
        intrinsics=intrinsics_message(plane.k))).SerializeToString() for i in range(3)]
    with pytest.raises(grpc.RpcError) as e:
        _raw_stream_call(gw.target, "/worldbridge.v1.WorldBridge/RecordTrajectory",
                         [header, *frames, b"\xff\xff"], unary_response=True)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "after 3 stored frames" in e.value.details()
    dataset = load_dataset(gw.gateway.config.data_dir / "cut_short")
    assert len(dataset) == 3


def test_intrinsics_that_overflow_are_invalid_argument(make_gateway, plane):
    from worldbridge.geometry import Intrinsics

    gw = make_gateway(workers=1)
    view = plane.view()
    view.intrinsics = Intrinsics(1e308, 1e308, 0.5, 0.5, 1, 1)
    view.rgb = plane.rgb[:1, :1]
    view.depth = plane.depth[:1, :1]
    with BridgeClient(gw.target) as c:
        with pytest.raises(grpc.RpcError) as e:
            c.open_session([view], width=64, height=64)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "fx=1e+308" in e.value.details()


def test_the_gateway_process_does_not_load_pytorch(tmp_path, plane):
    from worldbridge.demo import start_server_process

    proc, port = start_server_process(["--data-dir", str(tmp_path), "--workers", "1"])
    try:
        with BridgeClient(f"127.0.0.1:{port}") as c:
            assert c.info.workers[0].serving
            s = c.open_session([plane.view()])
            assert s.render(PoseRequest(plane.pose(), Convention.OPENCV)).error is None
        maps = open(f"/proc/{proc.pid}/maps").read()
        assert "libtorch" not in maps, "the gateway process mapped PyTorch"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_client_text_echoed_in_errors_is_bounded(make_gateway):
    from worldbridge.v1 import session_pb2

    gw = make_gateway(workers=0)
    with BridgeClient(gw.target) as c:
        with pytest.raises(grpc.RpcError) as e:
            c.stub.CloseSession(session_pb2.CloseSessionRequest(session_id="x" * 100_000),
                                metadata=c.metadata, timeout=10)
    assert e.value.code() == grpc.StatusCode.NOT_FOUND
    assert len(e.value.details()) < 300 and "100000 characters" in e.value.details()


def test_a_public_bind_needs_tls_unless_insecure(tmp_path):
    import asyncio

    from worldbridge.serving import Gateway, InsecureBindError, ServerConfig

    cfg = ServerConfig(host="0.0.0.0", port=0, workers=0, token="t0ken", data_dir=tmp_path)
    with pytest.raises(InsecureBindError, match="clear text"):
        asyncio.run(Gateway(cfg).start())

    async def start_and_stop():
        from dataclasses import replace

        gw = await Gateway(replace(cfg, insecure=True)).start()
        assert gw.port > 0
        await gw.stop()

    asyncio.run(start_and_stop())


def _open_request(views):
    """An OpenSessionRequest from ``(rgb Texture, depth array or None, intrinsics)`` triples."""
    from worldbridge.client.messages import depth_message, hello, intrinsics_message, pose_message
    from worldbridge.v1 import session_pb2

    req = session_pb2.OpenSessionRequest(hello=hello(), generator="anchor")
    for texture, depth, k in views:
        rv = req.reference_views.add(rgb=texture, pose=pose_message(np.eye(4), Convention.OPENCV),
                                     intrinsics=intrinsics_message(k))
        if depth is not None:
            rv.depth.CopyFrom(depth_message(depth))
    return req


def _peak_rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_decode_bombs_and_oversized_requests_keep_the_gateway_small(tmp_path):
    """Seven PNG decompression bombs (about 280 kB each, 16384x16384 when decoded) and an
    OpenSession with 16 views of 4096x4096 are refused before anything is decoded; the gateway's
    peak memory stays under 400 MB (it took 805 MB per bomb when images were decoded first)."""
    import cv2

    from worldbridge.demo import start_server_process
    from worldbridge.geometry import Intrinsics
    from worldbridge.v1 import image_pb2

    proc, port = start_server_process(["--data-dir", str(tmp_path), "--workers", "0"])
    try:
        ok, bomb = cv2.imencode(".png", np.zeros((16384, 16384), np.uint8))
        k64 = Intrinsics.from_vertical_fov(60.0, 64, 64)
        bomb_view = (image_pb2.Texture(width=64, height=64, format=image_pb2.TEXTURE_FORMAT_PNG,
                                       data=bomb.tobytes()), np.full((64, 64), 2.0, np.float32), k64)
        ok, big = cv2.imencode(".png", np.zeros((4096, 4096, 3), np.uint8))
        k4k = Intrinsics.from_vertical_fov(60.0, 4096, 4096)
        big_view = (image_pb2.Texture(width=4096, height=4096, format=image_pb2.TEXTURE_FORMAT_PNG,
                                      data=big.tobytes()), None, k4k)
        with BridgeClient(f"127.0.0.1:{port}") as c:
            def open_raw(req):
                try:
                    c.stub.OpenSession(req, metadata=c.metadata, timeout=60)
                except grpc.RpcError as e:
                    return e.code(), e.details()
                return None

            with ThreadPoolExecutor(max_workers=8) as pool:
                bombs = list(pool.map(open_raw, [_open_request([bomb_view])] * 7))
            assert all(code == grpc.StatusCode.INVALID_ARGUMENT and "PNG header" in details
                       for code, details in bombs), bombs
            code, details = open_raw(_open_request([big_view] * 16))
            assert code == grpc.StatusCode.RESOURCE_EXHAUSTED and "268,435,456 pixels" in details
            limits = c.info.limits
            assert limits.max_request_pixels == 64 * 2**20 and limits.max_inflight_pixels >= limits.max_request_pixels
            assert limits.worker_memory_budget_bytes > 0
        peak = _peak_rss_mb(proc.pid)
        print(f"gateway peak RSS {peak:.0f} MB")
        assert peak < 400, f"gateway peak RSS {peak:.0f} MB"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_an_output_whose_frames_cannot_fit_a_message_is_refused_at_open(make_gateway, plane):
    from worldbridge.wire.texture import TextureFormat

    gw = make_gateway(workers=1)
    with BridgeClient(gw.target) as c:
        with pytest.raises(grpc.RpcError) as e:
            c.open_session([plane.view()], width=4096, height=4096)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "4096x4096 RGBA8 frame takes up to 67,108,864 bytes" in e.value.details()
        s = c.open_session([plane.view()], width=4096, height=4096, texture_format=TextureFormat.JPEG)
        s.close()


def test_a_worker_refuses_sessions_over_its_memory_budget(make_gateway, plane):
    gw = make_gateway(workers=1, limits=ServerLimits(worker_memory_budget_bytes=2 * 2**20))
    with BridgeClient(gw.target) as c:
        opened = []
        with pytest.raises(grpc.RpcError) as e:
            for _ in range(20):
                opened.append(c.open_session([plane.view()]))
        assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "memory budget of 2 MiB" in e.value.details()
        assert 1 <= len(opened) < 20
        opened[0].close()  # closing one makes room again
        c.open_session([plane.view()])


_RECORDING_CLIENT = r"""
import sys, time
import numpy as np
from worldbridge.client import BridgeClient, CapturedView
from worldbridge.geometry import Convention, Intrinsics

target, name, frames = sys.argv[1], sys.argv[2], int(sys.argv[3])
k = Intrinsics.from_vertical_fov(60.0, 32, 24)

def views():
    for i in range(frames):
        c2w = np.eye(4)
        c2w[0, 3] = 0.1 * i
        yield CapturedView(rgb=np.full((24, 32, 3), i, np.uint8), depth=np.full((24, 32), 2.0, np.float32),
                           c2w=c2w, convention=Convention.OPENCV, intrinsics=k)
    time.sleep(3600)  # keep the stream open until killed

with BridgeClient(target) as c:
    c.record(name, views())
"""


def test_a_killed_recording_client_leaves_a_finalised_dataset_and_nothing_behind(tmp_path):
    import subprocess
    import sys

    from worldbridge.demo import start_server_process
    from worldbridge.recording import load_dataset

    data = tmp_path / "recordings"
    proc, port = start_server_process(["--data-dir", str(data), "--workers", "0"])

    def tasks_and_fds() -> tuple[int, int]:
        return len(os.listdir(f"/proc/{proc.pid}/task")), len(os.listdir(f"/proc/{proc.pid}/fd"))

    try:
        # warm up with one recording that finishes normally; its threads are gone afterwards
        warm = subprocess.run([sys.executable, "-c", _RECORDING_CLIENT.replace("time.sleep(3600)", "return"),
                               f"127.0.0.1:{port}", "warm_up", "2"], timeout=120)
        assert warm.returncode == 0
        time.sleep(1.0)
        baseline = tasks_and_fds()
        runs = 6
        for run in range(runs):
            name, frames = f"killed_{run}", 3 + run
            client = subprocess.Popen([sys.executable, "-c", _RECORDING_CLIENT, f"127.0.0.1:{port}", name, str(frames)])
            journal = data / name / "frames.jsonl"
            wait_until(lambda journal=journal, frames=frames:
                       journal.is_file() and len(journal.read_text().splitlines()) >= frames, 60)
            client.kill()
            client.wait()
            wait_until(lambda name=name: load_dataset(data / name).complete, 20)
            dataset = load_dataset(data / name)
            assert dataset.source == "transforms.json" and len(dataset) == frames
        time.sleep(1.0)
        # the recordings' threads and files are gone: they leaked two threads and a descriptor
        # per cut-off recording (12 and 6 here); asyncio's default executor may keep up to two
        # more idle decode threads around
        tasks, fds = tasks_and_fds()
        assert tasks <= baseline[0] + 2 and fds <= baseline[1], (baseline, (tasks, fds))
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_an_idle_stream_learns_at_once_that_its_worker_died(make_gateway, plane):
    import threading

    from worldbridge.client.messages import pose_message
    from worldbridge.v1 import frames_pb2

    gw = make_gateway(workers=1, heartbeat_timeout_s=30.0)
    worker = gw.gateway.pool.workers["worker-0"]
    release = threading.Event()
    with BridgeClient(gw.target) as c:
        s = c.open_session([plane.view()])

        def requests():
            yield frames_pb2.FrameRequest(session_id=s.session_id, sequence=0,
                                          pose=pose_message(plane.pose(), Convention.OPENCV))
            release.wait(60)  # then stay silent: no further request would reveal the loss

        responses = c.stub.StreamFrames(requests(), metadata=c.metadata, timeout=60)
        first = next(responses)
        assert first.sequence == 0 and not first.HasField("error")
        os.kill(worker.process.pid, signal.SIGKILL)
        t0 = time.monotonic()
        with pytest.raises(grpc.RpcError) as e:
            next(responses)
        waited = time.monotonic() - t0
        release.set()
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE and "worker-0" in e.value.details()
    assert waited < 5.0, f"the stream heard of the dead worker after {waited:.1f} s"


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(entry))
    return kids


def _gone(pid: int) -> bool:
    try:
        state = [line for line in open(f"/proc/{pid}/status") if line.startswith("State:")][0]
    except (OSError, IndexError):
        return True
    return "Z" in state.split()[1]  # a zombie has exited; its new parent reaps it


def test_workers_and_the_socket_folder_go_with_a_killed_gateway(tmp_path):
    import tempfile

    from worldbridge.demo import start_server_process
    from worldbridge.serving.channel import IPC_DIR_PREFIX, OWNER_FILE

    proc, port = start_server_process(["--data-dir", str(tmp_path), "--workers", "2"])
    with BridgeClient(f"127.0.0.1:{port}") as c:
        assert all(w.serving for w in c.info.workers) and len(c.info.workers) == 2
    workers = _children(proc.pid)
    assert len(workers) == 2, workers
    folders = [p for p in Path(tempfile.gettempdir()).glob(IPC_DIR_PREFIX + "*")
               if (p / OWNER_FILE).is_file() and (p / OWNER_FILE).read_text() == str(proc.pid)]
    assert len(folders) == 1
    proc.kill()
    proc.wait()
    t0 = time.monotonic()
    wait_until(lambda: all(_gone(pid) for pid in workers), 10)
    wait_until(lambda: not folders[0].exists(), 10)
    assert time.monotonic() - t0 < 10


def test_the_token_comes_from_a_file_not_the_command_line(tmp_path, plane):
    from worldbridge.demo import start_server_process

    token_file = tmp_path / "token.txt"
    token_file.write_text("file-s3cret\n")
    proc, port = start_server_process(["--data-dir", str(tmp_path), "--workers", "1",
                                       "--token-file", str(token_file)])
    try:
        assert "file-s3cret" not in open(f"/proc/{proc.pid}/cmdline").read()
        with BridgeClient(f"127.0.0.1:{port}", token="file-s3cret") as c:
            assert c.open_session([plane.view()]).render(PoseRequest(plane.pose(), Convention.OPENCV)).error is None
        with pytest.raises(grpc.RpcError) as e:
            with BridgeClient(f"127.0.0.1:{port}", token="wrong") as c:
                c.open_session([plane.view()])
        assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        proc.terminate()
        proc.wait(timeout=20)
