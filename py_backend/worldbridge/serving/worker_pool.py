"""Gateway side of the render workers: spawn, route, watch, restart.

The gateway binds one ZeroMQ ROUTER; every worker (local subprocess or remote machine)
connects a DEALER and announces itself with ``ready``. Requests carry an id and are matched
to replies by it; each request resolves an ``asyncio.Future``. A worker is declared dead
when its local process exits or its heartbeats stop for ``heartbeat_timeout_s``: its
pending requests fail with :class:`WorkerUnavailable`, the ``on_worker_down`` callback runs
(the gateway fails the sessions pinned to it) and a local worker is restarted.

The pattern is vLLM's engine-core client: the gRPC event loop never waits on PyTorch.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import logging
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import zmq
import zmq.asyncio

from worldbridge.serving import codec

__all__ = ["WorkerPool", "WorkerHandle", "WorkerUnavailable", "WorkerError"]

log = logging.getLogger("worldbridge.gateway")


class WorkerUnavailable(Exception):
    """No worker can take the request, or the worker died before replying."""


class WorkerError(Exception):
    """A worker replied with an error: ``code`` is a grpc.StatusCode name."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class WorkerHandle:
    """One worker slot as the gateway sees it."""

    worker_id: str
    local: bool
    identity: bytes | None = None
    process: subprocess.Popen | None = None
    serving: bool = False
    device: str = ""
    generators: list[str] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)
    last_seen: float = 0.0
    pending: dict[int, asyncio.Future] = field(default_factory=dict)
    restarts: int = 0
    next_spawn_at: float = 0.0


class WorkerPool:
    """Spawns local workers, accepts remote ones, and routes requests to them.

    Args:
        bind: ZeroMQ address for workers (``ipc://...`` or ``tcp://host:port``); None makes a
            private ipc socket in a temporary directory.
        num_local: local worker processes to start (0 = only remote workers).
        token: shared secret remote workers must present in ``ready`` (None = none required).
        on_worker_down: async callback ``(worker_id) -> None`` run when a worker dies.
        on_worker_up: async callback ``(worker_id) -> None`` run when a worker is ready.
        heartbeat_timeout_s: silence after which a worker counts as dead.
        worker_env: extra environment for local workers.
        worker_args: extra ``worldbridge worker`` flags for local workers (generator options,
            :meth:`~worldbridge.generators.GeneratorOptions.to_argv`).
    """

    def __init__(self, bind: str | None = None, num_local: int = 1, token: str | None = None,
                 on_worker_down: Callable[[str], Awaitable[None]] | None = None,
                 on_worker_up: Callable[[str], Awaitable[None]] | None = None,
                 heartbeat_timeout_s: float = 5.0, worker_env: dict[str, str] | None = None,
                 worker_args: list[str] | tuple[str, ...] = ()):
        self._tmp = None
        if bind is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="worldbridge-")
            bind = f"ipc://{self._tmp.name}/workers.sock"
        self.bind_address = bind
        self.num_local = num_local
        self.token = token
        self.on_worker_down = on_worker_down
        self.on_worker_up = on_worker_up
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.worker_env = worker_env or {}
        self.worker_args = list(worker_args)
        self.workers: dict[str, WorkerHandle] = {}
        self._ids = itertools.count(1)
        self._ctx = zmq.asyncio.Context()
        self._sock: zmq.asyncio.Socket | None = None
        self._tasks: list[asyncio.Task] = []
        self._ready = asyncio.Event()
        self._closing = False

    @property
    def connect_address(self) -> str:
        """Address workers connect to (``tcp://*`` binds become ``tcp://127.0.0.1``)."""
        return self.bind_address.replace("tcp://*", "tcp://127.0.0.1").replace(
            "tcp://0.0.0.0", "tcp://127.0.0.1")

    async def start(self, wait_ready_s: float | None = 60.0) -> None:
        """Bind, spawn local workers and (optionally) wait until all local ones are ready.

        Raises:
            TimeoutError: local workers did not become ready in ``wait_ready_s``.
        """
        self._sock = self._ctx.socket(zmq.ROUTER)
        self._sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.bind(self.bind_address)
        if self.bind_address.startswith("tcp://") and self.bind_address.endswith(":0"):
            self.bind_address = self._sock.getsockopt_string(zmq.LAST_ENDPOINT)
        for i in range(self.num_local):
            wid = f"worker-{i}"
            self.workers[wid] = WorkerHandle(wid, local=True)
            self._spawn(self.workers[wid])
        self._tasks = [asyncio.create_task(self._recv_loop(), name="worker-recv"),
                       asyncio.create_task(self._watch_loop(), name="worker-watch")]
        if wait_ready_s and self.num_local:
            deadline = time.monotonic() + wait_ready_s
            while not all(w.serving for w in self.workers.values() if w.local):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"workers not ready after {wait_ready_s} s")
                await asyncio.sleep(0.05)

    def _spawn(self, w: WorkerHandle) -> None:
        cmd = [sys.executable, "-m", "worldbridge.serving.worker", "--connect",
               self.connect_address, "--worker-id", w.worker_id, *self.worker_args]
        env = {**os.environ, **self.worker_env}
        if self.token:
            env["WORLDBRIDGE_TOKEN"] = self.token
        w.process = subprocess.Popen(cmd, env=env)
        w.last_seen = time.monotonic()
        # a worker that crashes right after start is not respawned in a hot loop
        w.next_spawn_at = w.last_seen + min(5.0, 0.1 * 2 ** min(w.restarts, 6))
        log.info("started %s (pid %d)", w.worker_id, w.process.pid)

    # ----------------------------------------------------------------- requests

    def pick_worker(self, generator: str | None = None) -> WorkerHandle:
        """The serving worker with the fewest sessions (among those that can run ``generator``).

        Raises:
            WorkerUnavailable: no worker is serving.
            WorkerError: ``FAILED_PRECONDITION`` when workers serve but none has ``generator``.
        """
        live = [w for w in self.workers.values() if w.serving]
        if not live:
            raise WorkerUnavailable("no render worker is serving")
        able = [w for w in live if generator is None or generator in w.generators]
        if not able:
            raise WorkerError("FAILED_PRECONDITION", f"no render worker can run generator "
                              f"{generator!r} (its weights are missing); workers offer "
                              f"{sorted({g for w in live for g in w.generators})}")
        return min(able, key=lambda w: (len(w.sessions), w.worker_id))

    async def request(self, worker_id: str, message: dict[str, Any],
                      timeout_s: float | None = None) -> dict[str, Any]:
        """Send a request to a worker and wait for its reply.

        Raises:
            WorkerUnavailable: the worker is not serving or died before replying.
            WorkerError: the worker replied with an error.
            asyncio.TimeoutError: no reply within ``timeout_s``.
        """
        w = self.workers.get(worker_id)
        if w is None or not w.serving or w.identity is None:
            raise WorkerUnavailable(f"render worker {worker_id} is not serving")
        rid = next(self._ids)
        fut = asyncio.get_running_loop().create_future()
        w.pending[rid] = fut
        try:
            await self._sock.send_multipart([w.identity, *codec.encode({**message, "id": rid})],
                                            copy=False)
        except zmq.ZMQError as e:
            w.pending.pop(rid, None)
            raise WorkerUnavailable(f"render worker {worker_id} is unreachable: {e}") from None
        try:
            reply = await asyncio.wait_for(fut, timeout_s) if timeout_s else await fut
        finally:
            w.pending.pop(rid, None)
        if not reply.get("ok"):
            raise WorkerError(reply.get("code", "INTERNAL"), reply.get("message", "worker error"))
        return reply

    # ----------------------------------------------------------------- loops

    async def _recv_loop(self) -> None:
        while True:
            frames = await self._sock.recv_multipart(copy=False)
            identity = frames[0].bytes
            try:
                msg = codec.decode(frames[1:])
            except codec.CodecError as e:
                log.warning("dropping malformed worker message: %s", e)
                continue
            op = msg.get("op")
            if op == "reply":
                w = self._by_identity(identity)
                fut = w.pending.get(msg.get("id")) if w else None
                if fut is not None and not fut.done():
                    fut.set_result(msg)
            elif op == "heartbeat":
                w = self.workers.get(msg.get("worker"))
                if w is not None:
                    w.last_seen = time.monotonic()
            elif op == "ready":
                await self._on_ready(identity, msg)

    def _by_identity(self, identity: bytes) -> WorkerHandle | None:
        for w in self.workers.values():
            if w.identity == identity:
                return w
        return None

    async def _on_ready(self, identity: bytes, msg: dict) -> None:
        wid = str(msg.get("worker"))
        if self.token and not hmac.compare_digest(str(msg.get("token", "")), self.token):
            log.warning("refusing worker %s: bad token", wid)
            return
        w = self.workers.get(wid)
        if w is None:
            w = self.workers[wid] = WorkerHandle(wid, local=False)
        elif w.serving and w.identity != identity:
            await self._mark_down(w, "replaced by a new incarnation")
        w.identity = identity
        w.device = msg.get("device", "")
        w.generators = list(msg.get("generators", []))
        w.last_seen = time.monotonic()
        w.serving = True
        log.info("%s ready on %s (pid %s)", wid, w.device, msg.get("pid"))
        if self.on_worker_up:
            await self.on_worker_up(wid)

    async def _watch_loop(self) -> None:
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            for w in list(self.workers.values()):
                exited = (w.serving and w.local and w.process is not None
                          and w.process.poll() is not None)
                silent = w.serving and now - w.last_seen > self.heartbeat_timeout_s
                if exited or silent:
                    reason = (f"process exited with {w.process.returncode}" if exited
                              else f"no heartbeat for {now - w.last_seen:.1f} s")
                    await self._mark_down(w, reason)
                    if w.local and w.process is not None and w.process.poll() is None:
                        w.process.kill()
                        w.process.wait()
                if (w.local and not self._closing and not w.serving and w.process is not None
                        and w.process.poll() is not None and now >= w.next_spawn_at):
                    w.restarts += 1
                    self._spawn(w)

    async def _mark_down(self, w: WorkerHandle, reason: str) -> None:
        was_serving = w.serving
        w.serving = False
        w.identity = None
        for fut in w.pending.values():
            if not fut.done():
                fut.set_exception(WorkerUnavailable(f"render worker {w.worker_id} died: {reason}"))
        w.pending.clear()
        if was_serving or w.sessions:
            log.warning("%s down: %s", w.worker_id, reason)
            if self.on_worker_down:
                await self.on_worker_down(w.worker_id)
        w.sessions.clear()

    async def close(self) -> None:
        """Stop local workers (shutdown message, then kill) and close the socket."""
        self._closing = True
        for t in self._tasks:
            t.cancel()
        for w in self.workers.values():
            if w.serving and w.identity is not None:
                try:
                    await self._sock.send_multipart([w.identity, *codec.encode({"op": "shutdown"})])
                except zmq.ZMQError:
                    pass
        for w in self.workers.values():
            if w.process is not None:
                try:
                    w.process.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    w.process.kill()
                    w.process.wait()
        if self._sock is not None:
            self._sock.close(0)
        self._ctx.term()
        if self._tmp is not None:
            self._tmp.cleanup()
