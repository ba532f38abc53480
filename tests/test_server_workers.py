"""Worker failure and scale-out: a killed worker fails its sessions with UNAVAILABLE, health
follows it, the gateway restarts it; workers on other machines connect over tcp://."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from helpers import wait_until

from worldbridge.client import BridgeClient, PoseRequest
from worldbridge.geometry import Convention


def _health(target: str, service: str) -> int:
    with grpc.insecure_channel(target) as ch:
        return health_pb2_grpc.HealthStub(ch).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=5).status



def test_killed_worker_fails_its_sessions_and_is_restarted(make_gateway, plane):
    gw = make_gateway(workers=2, heartbeat_timeout_s=3.0)
    with BridgeClient(gw.target) as c:
        victim_session = c.open_session([plane.view()])
        other_session = c.open_session([plane.view()])
        assert victim_session.worker_id != other_session.worker_id
        worker = gw.gateway.pool.workers[victim_session.worker_id]
        pid = worker.process.pid

        def poses():
            for i in range(10_000):
                if i == 5:
                    os.kill(pid, signal.SIGKILL)
                yield PoseRequest(plane.pose(dx=0.001 * i), Convention.OPENCV)

        got = []
        with pytest.raises(grpc.RpcError) as e:
            for f in victim_session.stream(poses()):
                got.append(f.sequence)
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        assert victim_session.worker_id in e.value.details()
        assert len(got) >= 4 and got == list(range(len(got)))  # frames before the kill arrived in order
        health_name = f"worldbridge.worker.{victim_session.worker_id}"
        # the session stays failed, even after the worker is back
        wait_until(lambda: worker.serving and worker.process.pid != pid)
        assert _health(gw.target, health_name) == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError) as e:
            victim_session.render(PoseRequest(plane.pose(), Convention.OPENCV))
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        # the other worker's session never noticed
        assert other_session.render(PoseRequest(plane.pose(), Convention.OPENCV)).error is None
        # and new sessions work on the restarted worker too
        for _ in range(2):
            s = c.open_session([plane.view()])
            assert s.render(PoseRequest(plane.pose(), Convention.OPENCV)).error is None
        assert worker.restarts == 1


def test_health_goes_not_serving_while_a_worker_is_down(make_gateway, plane):
    gw = make_gateway(workers=1)
    worker = gw.gateway.pool.workers["worker-0"]
    seen = []
    # hold the restart back for 2 s so the NOT_SERVING window is observable
    worker.next_spawn_at = time.monotonic() + 2.0
    os.kill(worker.process.pid, signal.SIGKILL)
    wait_until(lambda: not worker.serving)
    seen.append(_health(gw.target, "worldbridge.worker.worker-0"))
    seen.append(_health(gw.target, "worldbridge.v1.WorldBridge"))
    assert seen == [health_pb2.HealthCheckResponse.NOT_SERVING] * 2
    with BridgeClient(gw.target) as c:
        with pytest.raises(grpc.RpcError) as e:
            c.open_session([plane.view()])
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
    wait_until(lambda: worker.serving, 60)
    assert _health(gw.target, "worldbridge.v1.WorldBridge") == health_pb2.HealthCheckResponse.SERVING


def test_remote_worker_over_tcp(make_gateway, plane):
    gw = make_gateway(workers=0, worker_bind="tcp://127.0.0.1:0", token="s3cret")
    address = gw.gateway.pool.bind_address
    env = {**os.environ, "WORLDBRIDGE_TOKEN": "wrong"}
    bad = subprocess.Popen([sys.executable, "-m", "worldbridge.cli", "worker", "--connect", address,
                            "--worker-id", "intruder"], env=env)
    good = subprocess.Popen([sys.executable, "-m", "worldbridge.cli", "worker", "--connect", address,
                             "--worker-id", "gpu-box-1", "--token", "s3cret"])
    try:
        wait_until(lambda: "gpu-box-1" in gw.gateway.pool.workers and gw.gateway.pool.workers["gpu-box-1"].serving, 60)
        assert "intruder" not in gw.gateway.pool.workers
        with BridgeClient(gw.target, token="s3cret") as c:
            s = c.open_session([plane.view()])
            assert s.worker_id == "gpu-box-1"
            assert s.render(PoseRequest(plane.pose(), Convention.OPENCV)).error is None
        good.kill()
        wait_until(lambda: not gw.gateway.pool.workers["gpu-box-1"].serving, 20)
    finally:
        for p in (bad, good):
            p.kill()
            p.wait()
