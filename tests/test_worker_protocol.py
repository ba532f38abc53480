"""The gateway <-> worker channel: typed messages validated while decoding, workers identified
by their connection, CURVE on tcp, and a receive loop no message can stop."""

from __future__ import annotations

import asyncio
import os
import stat
import time

import msgspec
import numpy as np
import pytest
import zmq
from grpc_health.v1 import health_pb2, health_pb2_grpc

from worldbridge.client import BridgeClient, PoseRequest
from worldbridge.geometry import Convention
from worldbridge.serving import protocol as proto
from worldbridge.serving.channel import ChannelSecurityError, secure_client, server_keys
from worldbridge.serving.gateway.worker_pool import WorkerPool

K = proto.Intrinsics6(50.0, 50.0, 16.0, 12.0, 32, 24)


def _pack(obj) -> bytes:
    return msgspec.msgpack.encode(obj)


def _ext(index: int, dtype: str, shape: list[int]) -> msgspec.msgpack.Ext:
    return msgspec.msgpack.Ext(proto.ARRAY_EXT, _pack([index, dtype, shape]))


# ----------------------------------------------------------------------------- codec


def test_round_trip_keeps_types_and_arrays_without_copying():
    gateway, worker = proto.Codec(proto.GATEWAY_BOUND), proto.Codec(proto.WORKER_BOUND)
    view = proto.View(rgb=np.zeros((24, 32, 3), np.uint8), depth=np.full((24, 32), 2.5, np.float32),
                      c2w=np.eye(4), K=K)
    msg = proto.OpenSession(id=7, session="s", generator="anchor", seed=3, anchor_lock=None,
                            views=[view, proto.View(rgb=view.rgb, depth=None, c2w=view.c2w, K=K)],
                            output=proto.Output(32, 24, 1, 2))
    frames = gateway.encode(msg)
    assert len(frames) == 1 + 5  # header + rgb, depth, c2w, rgb, c2w
    out = worker.decode(frames)
    assert isinstance(out, proto.OpenSession) and out.id == 7 and out.views[1].depth is None
    np.testing.assert_array_equal(out.views[0].depth, view.depth)
    assert out.views[0].c2w.dtype == np.float64 and out.views[0].K == K
    assert not out.views[0].rgb.flags.writeable  # a view on the received buffer
    assert np.shares_memory(out.views[0].rgb, frames[1])

    texture = np.frombuffer(b"\x01\x02\x03", np.uint8)
    reply = proto.Reply(id=7, status=proto.Status.OK, result=proto.FrameResult(
        texture=texture, width=1, height=1, format=1, row_order=1, anchor_ms=1.0, model_ms=2.0,
        encode_ms=0.5, coverage=0.25, worker_ms=4.0))
    back = gateway.decode(worker.encode(reply))
    assert back.status is proto.Status.OK and back.result.texture.tobytes() == b"\x01\x02\x03"


def test_zero_copy_over_a_real_socket():
    ctx = zmq.Context.instance()
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    a.bind("inproc://protocol-test")
    b.connect("inproc://protocol-test")
    depth = np.random.default_rng(0).random((480, 640), dtype=np.float32)
    a.send_multipart(proto.Codec(proto.GATEWAY_BOUND).encode(
        proto.Render(id=1, session="s", c2w=np.eye(4), K=K, depth=depth, keyframe=True)), copy=False)
    out = proto.Codec(proto.WORKER_BOUND).decode(b.recv_multipart(copy=False))
    np.testing.assert_array_equal(out.depth, depth)
    assert out.keyframe is True
    a.close()
    b.close()


@pytest.mark.parametrize("frames, match", [
    ([_pack({"op": "heartbeat", "worker": [1, 2]})], "missing required field `lease`"),
    ([_pack({"op": "ready", "name": "x", "pid": 1, "device": "d", "generators": 5})], r"\$\.generators"),
    ([_pack({"op": "reply", "id": 1, "status": 77})], "Invalid enum value 77"),
    ([_pack({"op": "render", "id": 1, "session": "s"})], "Invalid value 'render'"),  # not gateway-bound
    ([_pack({"op": "rm -rf"})], "Invalid value 'rm -rf'"),
    ([_pack({"id": 1})], "missing required field `op`"),
    ([_pack([1, 2])], "Expected `object`"),
    ([b"\xc1"], "malformed"),
    ([], "empty message"),
    ([_pack({"op": "ready", "name": "n" * 100_000, "pid": 1, "device": "d", "generators": []})],
     "name is 100000 characters long"),
    ([_pack({"op": "ready", "name": "x", "pid": 1, "device": "d", "generators": ["a"] * 65})], "65 generators"),
    ([_pack({"op": "reply", "id": 1, "status": 0, "result": {"kind": "frame", "texture": _ext(0, "|u1", [3]),
       "width": 1, "height": 1, "format": 1, "row_order": 1, "anchor_ms": 0, "model_ms": 0,
       "encode_ms": 0, "coverage": 0, "worker_ms": 0}})], "points at buffer 0, 0 sent"),
    ([_pack({"op": "reply", "id": 1, "status": 0, "result": {"kind": "frame", "texture": _ext(0, "|O", [3]),
       "width": 1, "height": 1, "format": 1, "row_order": 1, "anchor_ms": 0, "model_ms": 0,
       "encode_ms": 0, "coverage": 0, "worker_ms": 0}}), b"abc"], "dtype '|O' is not allowed"),
    ([_pack({"op": "reply", "id": 1, "status": 0, "result": {"kind": "frame", "texture": _ext(0, "|u1", [4]),
       "width": 1, "height": 1, "format": 1, "row_order": 1, "anchor_ms": 0, "model_ms": 0,
       "encode_ms": 0, "coverage": 0, "worker_ms": 0}}), b"abc"], "holds 3 bytes"),
    ([_pack({"op": "reply", "id": 1, "status": 0, "result": {"kind": "frame", "texture": _ext(0, "<f4", [3]),
       "width": 1, "height": 1, "format": 1, "row_order": 1, "anchor_ms": 0, "model_ms": 0,
       "encode_ms": 0, "coverage": 0, "worker_ms": 0}}), b"abcdefghijkl"], "texture has dtype <f4"),
    ([_pack({"op": "heartbeat", "lease": b"x"}), b"stray"], "1 of 1 buffers are not referenced"),
    ([_pack({"op": "reply", "id": 1, "status": 0,
             "result": {"kind": "close", "frames_served": [_ext(0, "|u1", [1]), _ext(0, "|u1", [1])]}}), b"a"],
     "referenced twice|Expected `int`"),
    ([_pack({"op": "reply", "id": 1, "status": 0, "result": None}), b"a"], "not referenced"),
    ([_pack({"op": "heartbeat", "lease": msgspec.msgpack.Ext(9, b"")})], r"Expected `bytes`, got `ext`"),
    ([_pack({"op": "reply", "id": 1, "status": 0, "result": {"kind": "frame", "texture": msgspec.msgpack.Ext(9, b""),
       "width": 1, "height": 1, "format": 1, "row_order": 1, "anchor_ms": 0, "model_ms": 0,
       "encode_ms": 0, "coverage": 0, "worker_ms": 0}})], "unknown msgpack extension type 9"),
])
def test_hostile_messages_are_refused_with_the_reason(frames, match):
    with pytest.raises(proto.ProtocolError, match=match):
        proto.Codec(proto.GATEWAY_BOUND).decode(frames)


def test_shapes_are_checked_on_decode():
    header = _pack({"op": "render", "id": 1, "session": "s", "c2w": _ext(0, "<f8", [3, 3]),
                    "K": [1, 1, 0, 0, 4, 3]})
    with pytest.raises(proto.ProtocolError, match=r"c2w has shape \[3, 3\], expected \[4, 4\]"):
        proto.Codec(proto.WORKER_BOUND).decode([header, np.eye(3).tobytes()])
    header = _pack({"op": "render", "id": 1, "session": "s", "c2w": _ext(0, "<f8", [4, 4]),
                    "K": [1, 1, 0, 0, 4, 3], "depth": _ext(1, "<f8", [3, 4])})
    with pytest.raises(proto.ProtocolError, match="depth has dtype <f8"):
        proto.Codec(proto.WORKER_BOUND).decode([header, np.eye(4).tobytes(), np.zeros((3, 4)).tobytes()])


def test_encoding_refuses_what_the_channel_does_not_carry():
    codec = proto.Codec(proto.GATEWAY_BOUND)
    with pytest.raises(TypeError, match="must have one of"):
        codec.encode(proto.Reply(id=1, status=proto.Status.OK,
                                 result=proto.CloseResult(frames_served=np.zeros(2, np.int64))))
    with pytest.raises(TypeError, match="cannot send object"):
        codec.encode(proto.Refused(reason=object()))


def test_clip_bounds_echoed_text():
    assert proto.clip("abc") == "abc"
    assert proto.clip("x" * 100_000, 10) == "xxxxxxxxxx... (100000 characters)"


# ----------------------------------------------------------------------------- CURVE keys


def test_curve_keys_come_from_the_token():
    pub_a, sec_a = server_keys("token-a")
    assert server_keys("token-a") == (pub_a, sec_a)
    assert server_keys("token-b")[0] != pub_a
    assert zmq.curve_public(sec_a) == pub_a and len(pub_a) == 40
    with pytest.raises(ChannelSecurityError, match="needs a token"):
        server_keys("")


# ----------------------------------------------------------------------------- a live gateway


def _health(target: str, service: str = "") -> int:
    import grpc

    with grpc.insecure_channel(target) as ch:
        return health_pb2_grpc.HealthStub(ch).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5).status


def _drain(sock: zmq.Socket, seconds: float) -> list:
    codec = proto.Codec(proto.WORKER_BOUND)
    got = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        if sock.poll(int(left * 1e3)):
            msg = codec.decode(sock.recv_multipart())
            if not isinstance(msg, proto.Ping):  # the gateway's keep-alive
                got.append(msg)
    return got


def test_hostile_local_messages_cannot_stop_the_gateway_or_receive_a_session(make_gateway, plane):
    gw = make_gateway(workers=1)
    pool = gw.gateway.pool
    address = pool.bind_address
    assert address.startswith("ipc://")
    sock_path = address[len("ipc://"):]
    assert stat.S_IMODE(os.stat(sock_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(sock_path)).st_mode) == 0o700

    ctx = zmq.Context.instance()
    hostile = ctx.socket(zmq.DEALER)
    hostile.setsockopt(zmq.LINGER, 0)
    hostile.connect(address)
    attacks = [
        [_pack({"op": "heartbeat", "worker": [1, 2]})],  # the 30-byte message that used to kill the loop
        [_pack({"op": "ready", "worker": "x", "generators": 5})],
        [_pack({"op": "ready", "name": "aaa", "pid": 1, "device": "evil", "generators": ["anchor"]})],
        [_pack({"op": "ready", "name": "worker-0", "pid": 1, "device": "evil", "generators": ["anchor"],
                "spawn_key": "guessed"})],
        [_pack({"op": "ready", "name": "remote", "pid": 1, "device": "evil", "generators": ["anchor"],
                "token": "anything"})],
        *[[_pack({"op": "reply", "id": i, "status": 0, "result": {"kind": "open", "anchor_points": 1}})]
          for i in range(1, 20)],
        [b"\xc1\xc1\xc1"],
        [_pack({"op": "heartbeat", "lease": b"0" * 16})],
    ]
    for frames in attacks:
        hostile.send_multipart(frames)
    answers = _drain(hostile, 1.5)
    refusals = [a for a in answers if isinstance(a, proto.Refused)]
    assert len(refusals) == 3 and not any(isinstance(a, proto.Welcome) for a in answers), answers
    assert any("only workers this gateway started" in r.reason for r in refusals)

    assert set(pool.workers) == {"worker-0"} and pool.workers["worker-0"].serving
    assert pool.workers["worker-0"].device != "evil"
    assert _health(gw.target) == health_pb2.HealthCheckResponse.SERVING
    with BridgeClient(gw.target) as c:
        s = c.open_session([plane.view()])
        assert s.worker_id == "worker-0"
        f = s.render(PoseRequest(plane.pose(), Convention.OPENCV))
        assert f.error is None
        np.testing.assert_array_equal(f.rgb[32, 32], plane.rgb[32, 32])  # the real worker's frame
    # the loops are alive: a later malformed message is still just dropped
    hostile.send_multipart([_pack({"op": "ready", "name": "again", "generators": None})])
    assert _drain(hostile, 0.3) == []
    assert not any(t.done() for t in pool._tasks)
    hostile.close()


def _fake_worker(ctx, address: str, token: str | None, name: str, curve: bool = True) -> zmq.Socket:
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    if curve:
        secure_client(sock, address, token)
    sock.connect(address)
    sock.send_multipart(proto.Codec(proto.WORKER_BOUND).encode(proto.Ready(
        name=name, pid=os.getpid(), device="test", generators=["anchor"], token=token or "")))
    return sock


def test_tcp_workers_need_the_token_and_are_identified_by_their_connection():
    async def scenario():
        pool = WorkerPool("tcp://127.0.0.1:0", num_local=0, token="s3cret", heartbeat_timeout_s=60)
        await pool.start(wait_ready_s=None)
        ctx = zmq.Context.instance()
        loop = asyncio.get_running_loop()

        async def answers(sock, seconds=1.0):
            return await loop.run_in_executor(None, _drain, sock, seconds)

        try:
            good = _fake_worker(ctx, pool.bind_address, "s3cret", "gpu-1")
            [welcome] = await answers(good)
            assert isinstance(welcome, proto.Welcome) and welcome.worker_id == "gpu-1"
            # the same connection announcing itself again is refused; the worker stays as it was
            good.send_multipart(proto.Codec(proto.WORKER_BOUND).encode(proto.Ready(
                name="gpu-9", pid=1, device="x", generators=[], token="s3cret")))
            [refused] = await answers(good)
            assert isinstance(refused, proto.Refused) and "already serves as gpu-1" in refused.reason
            # another connection claiming a serving worker's name is refused
            twin = _fake_worker(ctx, pool.bind_address, "s3cret", "gpu-1")
            [refused] = await answers(twin)
            assert isinstance(refused, proto.Refused) and "already serving" in refused.reason
            odd = _fake_worker(ctx, pool.bind_address, "s3cret", "../../etc")
            [refused] = await answers(odd)
            assert "must be 1-64 letters" in refused.reason
            # a wrong token derives the wrong server key: the CURVE handshake never completes
            wrong = _fake_worker(ctx, pool.bind_address, "wrong", "intruder")
            plain = _fake_worker(ctx, pool.bind_address, "s3cret", "plaintext", curve=False)
            assert await answers(wrong) == [] and await answers(plain) == []
            assert set(pool.workers) == {"gpu-1"}
            assert pool.workers["gpu-1"].device == "test" and pool.workers["gpu-1"].generators == ["anchor"]
            # heartbeats count only with the lease from the welcome
            w = pool.workers["gpu-1"]
            before = w.last_seen = time.monotonic() - 10.0
            hb = ctx.socket(zmq.DEALER)
            secure_client(hb, pool.bind_address, "s3cret")
            hb.connect(pool.bind_address)
            hb.send_multipart(proto.Codec(proto.WORKER_BOUND).encode(proto.Heartbeat(lease=b"x" * 16)))
            await asyncio.sleep(0.3)
            assert w.last_seen == before
            hb.send_multipart(proto.Codec(proto.WORKER_BOUND).encode(proto.Heartbeat(lease=welcome.lease)))
            await asyncio.sleep(0.3)
            assert w.last_seen > before + 9.0
            for s in (good, twin, odd, wrong, plain, hb):
                s.close()
        finally:
            await pool.close()

    asyncio.run(scenario())


def test_a_tcp_bind_without_a_token_is_refused():
    async def scenario():
        pool = WorkerPool("tcp://127.0.0.1:0", num_local=0, token=None)
        with pytest.raises(ChannelSecurityError, match="needs a token"):
            await pool.start(wait_ready_s=None)
        await pool.close()

    asyncio.run(scenario())


def test_the_receive_loop_survives_a_failing_handler(monkeypatch):
    async def scenario():
        pool = WorkerPool(None, num_local=0)
        await pool.start(wait_ready_s=None)
        calls = []
        real = pool._dispatch

        async def flaky(identity, msg):
            calls.append(msg)
            if len(calls) == 1:
                raise RuntimeError("a bug in one handler")
            await real(identity, msg)

        monkeypatch.setattr(pool, "_dispatch", flaky)
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(pool.bind_address)
        beat = proto.Codec(proto.WORKER_BOUND).encode(proto.Heartbeat(lease=b"l"))
        sock.send_multipart(beat)
        sock.send_multipart(beat)
        for _ in range(100):
            if len(calls) == 2:
                break
            await asyncio.sleep(0.02)
        assert len(calls) == 2
        assert not any(t.done() for t in pool._tasks)
        sock.close()
        await pool.close()

    asyncio.run(scenario())


def test_a_worker_leaves_a_gateway_that_went_silent(monkeypatch):
    import threading

    import worldbridge.memory
    from worldbridge.serving.worker import main as worker_module

    monkeypatch.setattr(worldbridge.memory, "warmup", lambda: None)
    monkeypatch.setattr(proto, "GATEWAY_SILENCE_S", 1.5)
    from worldbridge.serving.channel import secure_server

    ctx = zmq.Context.instance()
    router = ctx.socket(zmq.ROUTER)
    router.setsockopt(zmq.LINGER, 0)
    secure_server(router, "tcp://127.0.0.1:0", "tok")
    address = f"tcp://127.0.0.1:{router.bind_to_random_port('tcp://127.0.0.1')}"
    w = worker_module.Worker(address, "lonely", token="tok")
    outcome = []

    def run():
        try:
            w.run()
        except Exception as e:  # noqa: BLE001 (the outcome is checked below)
            outcome.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert router.poll(30_000)
    identity, *frames = router.recv_multipart()
    codec = proto.Codec(proto.GATEWAY_BOUND)
    assert isinstance(codec.decode(frames), proto.Ready)
    router.send_multipart([identity, *codec.encode(proto.Welcome(lease=b"l" * 16, worker_id="lonely"))])
    t0 = time.monotonic()
    t.join(20)  # the gateway now says nothing at all
    assert not t.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], worker_module.GatewayGone)
    assert 1.0 < time.monotonic() - t0 < 10
    router.close()
