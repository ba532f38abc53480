"""Gateway side of the render workers: spawn, route, watch, restart.

The gateway binds one ZeroMQ ROUTER; every worker (local subprocess or remote machine)
connects a DEALER and announces itself with ``ready``. A worker is identified by its
connection (the ROUTER's routing id), never by the name it claims: a local worker is matched
to the slot that spawned it by a per-spawn key, a remote worker must present the token over
a CURVE-encrypted tcp link (:mod:`worldbridge.serving.channel`), and a second ``ready`` on a
connection that is already serving is refused. Every message is typed and validated while
decoding (:mod:`worldbridge.serving.protocol`); one that is not valid, or that does not fit
its sender's state, is logged and dropped, and the receive loop itself is supervised, so no
message can stop it. Requests carry an id and are matched to replies from the same
connection; each request resolves an ``asyncio.Future``. A worker is declared dead
when its local process exits or its heartbeats stop for ``heartbeat_timeout_s``: its
pending requests fail with :class:`WorkerUnavailable`, the ``on_worker_down`` callback runs
(the gateway fails the sessions pinned to it) and a local worker is restarted.

The pattern is vLLM's engine-core client: the gRPC event loop never waits on PyTorch.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import logging
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import msgspec
import zmq
import zmq.asyncio

from worldbridge.errors import StatusError, Unavailable
from worldbridge.serving import protocol as proto
from worldbridge.serving.auth import GATEWAY_PID_ENV, SPAWN_KEY_ENV, TOKEN_ENV
from worldbridge.serving.channel import (
    make_ipc_dir,
    make_ipc_private,
    secure_server,
    sweep_orphaned_ipc_dirs,
)

__all__ = ["WorkerPool", "WorkerHandle", "WorkerUnavailable", "WorkerError"]

log = logging.getLogger("worldbridge.gateway")


class WorkerUnavailable(Unavailable):
    """No worker can take the request, or the worker died before replying."""


class WorkerError(StatusError):
    """A worker replied with an error: ``code`` (= ``status``) is a grpc.StatusCode name."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message)
        self.code = code


@dataclass
class WorkerHandle:
    """One worker slot as the gateway sees it.

    ``worker_id`` is the gateway's name for it (``worker-N`` for local slots, the validated
    claimed name for remote workers); ``identity`` is the connection it was accepted on.
    """

    worker_id: str
    local: bool
    identity: bytes | None = None
    spawn_key: str = ""
    lease: bytes = b""
    accepted_seq: int = 0
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
        token: shared secret remote workers must present in ``ready``; required for ``tcp://``
            binds, whose CURVE keys are derived from it.
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
        self._ipc_dir: Path | None = None
        if bind is None:
            sweep_orphaned_ipc_dirs()  # folders left by gateways that were killed
            self._ipc_dir = make_ipc_dir()
            bind = f"ipc://{self._ipc_dir}/workers.sock"
        self.bind_address = bind
        self.num_local = num_local
        self.token = token
        self.on_worker_down = on_worker_down
        self.on_worker_up = on_worker_up
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.worker_env = worker_env or {}
        self.worker_args = list(worker_args)
        self.workers: dict[str, WorkerHandle] = {}
        self._by_identity: dict[bytes, WorkerHandle] = {}
        self._by_lease: dict[bytes, WorkerHandle] = {}
        self._accepted = itertools.count(1)
        self._codec = proto.Codec(proto.GATEWAY_BOUND)
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
        secure_server(self._sock, self.bind_address, self.token)
        self._sock.bind(self.bind_address)
        make_ipc_private(self.bind_address)
        if self.bind_address.startswith("tcp://") and self.bind_address.endswith(":0"):
            self.bind_address = self._sock.getsockopt_string(zmq.LAST_ENDPOINT)
        for i in range(self.num_local):
            wid = f"worker-{i}"
            self.workers[wid] = WorkerHandle(wid, local=True)
            self._spawn(self.workers[wid])
        self._tasks = [self._supervise(self._recv_loop, "worker-recv"),
                       self._supervise(self._watch_loop, "worker-watch")]
        if wait_ready_s and self.num_local:
            deadline = time.monotonic() + wait_ready_s
            while not all(w.serving for w in self.workers.values() if w.local):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"workers not ready after {wait_ready_s} s")
                await asyncio.sleep(0.05)

    @property
    def _socket(self) -> zmq.asyncio.Socket:
        """The ROUTER socket; :meth:`start` makes it before anything sends or receives."""
        if self._sock is None:
            raise RuntimeError("the worker pool is not started")
        return self._sock

    def _supervise(self, loop: Callable[[], Coroutine[Any, Any, None]], name: str) -> asyncio.Task:
        """Run ``loop`` as a task that is restarted (after logging) if it ever ends by an error."""
        task = asyncio.create_task(loop(), name=name)

        def restart(t: asyncio.Task) -> None:
            if self._closing or t.cancelled():
                return
            log.error("%s stopped (%r); restarting it", name, t.exception())
            self._tasks = [x for x in self._tasks if x is not t]
            self._tasks.append(self._supervise(loop, name))

        task.add_done_callback(restart)
        return task

    def _spawn(self, w: WorkerHandle) -> None:
        cmd = [sys.executable, "-m", "worldbridge.serving.worker", "--connect",
               self.connect_address, "--name", w.worker_id, *self.worker_args]
        w.spawn_key = secrets.token_urlsafe(24)
        env = {**os.environ, **self.worker_env, SPAWN_KEY_ENV: w.spawn_key, GATEWAY_PID_ENV: str(os.getpid())}
        if self.token:
            env[TOKEN_ENV] = self.token
        w.process = subprocess.Popen(cmd, env=env)
        w.last_seen = time.monotonic()
        # a worker that crashes right after start is not respawned in a hot loop
        w.next_spawn_at = w.last_seen + min(5.0, 0.1 * 2 ** min(w.restarts, 6))
        log.info("started %s (pid %d)", w.worker_id, w.process.pid)

    # ----------------------------------------------------------------- requests

    def pick_worker(self, generator: str | None = None) -> WorkerHandle:
        """The serving worker with the fewest sessions (among those that can run ``generator``);
        ties go to the worker accepted first.

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
        return min(able, key=lambda w: (len(w.sessions), w.accepted_seq))

    async def request(self, worker_id: str, message: proto.OpenSession | proto.Render | proto.CloseSession,
                      timeout_s: float | None = None):
        """Send a request (its ``id`` is assigned here) to a worker and wait for its reply.

        Returns:
            the reply's result (:class:`~worldbridge.serving.protocol.OpenResult`,
            :class:`~worldbridge.serving.protocol.FrameResult` or
            :class:`~worldbridge.serving.protocol.CloseResult`).

        Raises:
            WorkerUnavailable: the worker is not serving or died before replying.
            WorkerError: the worker replied with an error status (or a result of the wrong kind).
            asyncio.TimeoutError: no reply within ``timeout_s``.
        """
        w = self.workers.get(worker_id)
        if w is None or not w.serving or w.identity is None:
            raise WorkerUnavailable(f"render worker {worker_id} is not serving")
        rid = next(self._ids)
        fut = asyncio.get_running_loop().create_future()
        w.pending[rid] = fut
        try:
            frames = self._codec.encode(msgspec.structs.replace(message, id=rid))
            await self._socket.send_multipart([w.identity, *frames], copy=False)
        except zmq.ZMQError as e:
            w.pending.pop(rid, None)
            raise WorkerUnavailable(f"render worker {worker_id} is unreachable: {e}") from None
        try:
            reply: proto.Reply = await asyncio.wait_for(fut, timeout_s) if timeout_s else await fut
        finally:
            w.pending.pop(rid, None)
        if reply.status != proto.Status.OK:
            raise WorkerError(reply.status.name, reply.message or "worker error")
        expected = {proto.OpenSession: proto.OpenResult, proto.Render: proto.FrameResult,
                    proto.CloseSession: proto.CloseResult}[type(message)]
        if not isinstance(reply.result, expected):
            raise WorkerError("INTERNAL", f"render worker {worker_id} answered a {type(message).__name__} "
                              f"with {type(reply.result).__name__}")
        return reply.result

    # ----------------------------------------------------------------- loops

    async def _recv_loop(self) -> None:
        while True:
            frames = await self._socket.recv_multipart(copy=False)
            identity = frames[0].bytes
            try:
                msg = self._codec.decode(frames[1:])
            except proto.ProtocolError as e:
                log.warning("dropping a malformed worker message: %s", e)
                continue
            try:
                await self._dispatch(identity, cast("proto.Ready | proto.Heartbeat | proto.Reply", msg))
            except Exception:  # a bug in handling one message must not stop the channel
                log.exception("error handling a %s from a worker connection", type(msg).__name__)

    async def _dispatch(self, identity: bytes, msg: proto.Ready | proto.Heartbeat | proto.Reply) -> None:
        if isinstance(msg, proto.Reply):
            w = self._by_identity.get(identity)
            fut = w.pending.get(msg.id) if w is not None else None
            if fut is None:
                log.warning("dropping a reply to unknown request %d%s", msg.id,
                            "" if w is not None else " from a connection that is not a worker")
            elif not fut.done():
                fut.set_result(msg)
        elif isinstance(msg, proto.Heartbeat):
            w = self._by_lease.get(msg.lease)
            if w is not None and w.serving:
                w.last_seen = time.monotonic()
        else:
            await self._on_ready(identity, msg)

    async def _refuse(self, identity: bytes, reason: str) -> None:
        log.warning("refusing a worker connection: %s", reason)
        # the refused peer may already have gone (ROUTER_MANDATORY: EHOSTUNREACH); nothing to tell it then
        with contextlib.suppress(zmq.ZMQError):
            await self._socket.send_multipart([identity, *self._codec.encode(proto.Refused(reason=reason))])

    async def _on_ready(self, identity: bytes, msg: proto.Ready) -> None:
        label = proto.clip(msg.name, 64)
        if identity in self._by_identity:
            await self._refuse(identity, f"this connection already serves as "
                                         f"{self._by_identity[identity].worker_id}; ready ignored")
            return
        slot = None
        if msg.spawn_key:
            for w in self.workers.values():
                if w.local and w.spawn_key and not w.serving and \
                        hmac.compare_digest(w.spawn_key.encode(), msg.spawn_key.encode()):
                    slot = w
                    break
        if slot is None:
            if not self.bind_address.startswith("tcp://"):
                await self._refuse(identity, f"worker {label!r}: only workers this gateway started "
                                             "may connect to its ipc socket")
                return
            if not self.token or not hmac.compare_digest(msg.token.encode(), self.token.encode()):
                await self._refuse(identity, f"worker {label!r}: wrong token")
                return
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", msg.name):
                await self._refuse(identity, f"worker name {label!r} must be 1-64 letters, digits, "
                                             "'.', '_' or '-'")
                return
            slot = self.workers.get(msg.name)
            if slot is not None and (slot.local or slot.serving):
                await self._refuse(identity, f"a worker named {label!r} is already "
                                             f"{'a local slot' if slot.local else 'serving'}")
                return
            if slot is None:
                slot = self.workers[msg.name] = WorkerHandle(msg.name, local=False)
        slot.identity = identity
        slot.spawn_key = ""  # a spawn key admits one connection
        slot.lease = secrets.token_bytes(16)
        slot.accepted_seq = next(self._accepted)
        self._by_identity[identity] = slot
        self._by_lease[slot.lease] = slot
        slot.device = proto.clip(msg.device, 120)
        slot.generators = list(msg.generators)
        slot.last_seen = time.monotonic()
        slot.serving = True
        await self._socket.send_multipart([identity, *self._codec.encode(
            proto.Welcome(lease=slot.lease, worker_id=slot.worker_id))])
        log.info("%s ready on %s (pid %d)", slot.worker_id, slot.device, msg.pid)
        if self.on_worker_up:
            await self.on_worker_up(slot.worker_id)

    async def _watch_loop(self) -> None:
        next_ping = 0.0
        ping = self._codec.encode(proto.Ping())
        while True:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            if now >= next_ping:  # workers exit after a long silence from their gateway
                next_ping = now + proto.PING_INTERVAL_S
                for w in list(self.workers.values()):
                    if w.serving and w.identity is not None:
                        # a worker that just disconnected is marked down below by its silence
                        with contextlib.suppress(zmq.ZMQError):
                            await self._socket.send_multipart([w.identity, *ping])
            for w in list(self.workers.values()):
                exited = (w.serving and w.local and w.process is not None
                          and w.process.poll() is not None)
                silent = w.serving and now - w.last_seen > self.heartbeat_timeout_s
                if exited or silent:
                    reason = (f"process exited with {cast(subprocess.Popen, w.process).returncode}" if exited
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
        if w.identity is not None:
            self._by_identity.pop(w.identity, None)
        self._by_lease.pop(w.lease, None)
        w.identity = None
        w.lease = b""
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
                    await self._socket.send_multipart([w.identity, *self._codec.encode(proto.Shutdown())])
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
        if self._ipc_dir is not None:
            shutil.rmtree(self._ipc_dir, ignore_errors=True)
