"""Serving under faults and load: exact session accounting, lost sessions freeing their slots."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from worldbridge.client import BridgeClient, PoseRequest
from worldbridge.geometry import Convention
from worldbridge.serving import ServerLimits


def _wait(predicate, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.05)


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
        _wait(lambda: worker.serving and worker.process.pid != pid)
        assert len(gw.gateway.servicer.sessions) == 0
        new = [c.open_session([plane.view()]) for _ in range(2)]  # both slots are free again
        assert all(s.render(PoseRequest(plane.pose(), Convention.OPENCV)).error is None for s in new)
        for s in old:  # the lost sessions still say why
            with pytest.raises(grpc.RpcError) as e:
                s.render(PoseRequest(plane.pose(), Convention.OPENCV))
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE and "died" in e.value.details()
        old[0].close()  # closing a lost session is answered, not refused
        assert gw.gateway.servicer.sessions.get(old[0].session_id) is None
