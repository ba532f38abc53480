"""Render worker process: owns sessions (scene memory + generator) and renders frames.

A worker connects a ZeroMQ DEALER to the gateway's ROUTER and announces itself with
:class:`~worldbridge.serving.protocol.Ready` (its spawn key when the gateway started it,
the token when it is a remote worker). Once the gateway answers
:class:`~worldbridge.serving.protocol.Welcome`, it serves ``open``, ``render``, ``close``
and ``shutdown`` one at a time and answers each with a
:class:`~worldbridge.serving.protocol.Reply`. A separate thread sends a heartbeat carrying
the welcome's lease every :data:`HEARTBEAT_INTERVAL_S` over its own socket, so that a long
render never looks like a dead worker. Messages are typed and validated while decoding
(:mod:`worldbridge.serving.protocol`); one the worker cannot decode is logged and dropped.
tcp links are encrypted with CURVE keys derived from the token
(:mod:`worldbridge.serving.channel`).

Run: ``python -m worldbridge.serving.worker --connect ipc:///tmp/wb.sock --name w0``
(or ``worldbridge worker --connect tcp://gateway:5556`` on another machine, with the token in
``WORLDBRIDGE_TOKEN`` or ``--token-file``).
"""

from __future__ import annotations

import argparse
import ctypes
import logging
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import zmq

from worldbridge.errors import (
    FailedPrecondition,
    NotFound,
    ResourceExhausted,
    Unavailable,
    exit_code,
)
from worldbridge.generators import (
    GeneratorOptions,
    GeneratorUnavailableError,
    UnknownGeneratorError,
    add_generator_arguments,
    available_generators,
)
from worldbridge.serving import protocol as proto
from worldbridge.serving.auth import GATEWAY_PID_ENV, SPAWN_KEY_ENV, read_token
from worldbridge.serving.channel import ipc_path, remove_if_orphaned, secure_client
from worldbridge.serving.limits import default_memory_budget
from worldbridge.serving.worker.session import OutputSpec, WorkerSession

__all__ = ["Worker", "WorkerRefused", "main", "HEARTBEAT_INTERVAL_S", "WELCOME_TIMEOUT_S"]

HEARTBEAT_INTERVAL_S = 0.5
PR_SET_PDEATHSIG = 1  # linux/prctl.h
WELCOME_TIMEOUT_S = 30.0
log = logging.getLogger("worldbridge.worker")


class SessionNotFound(NotFound):
    """A render for a session this worker does not hold."""


class MemoryBudgetExceeded(ResourceExhausted, RuntimeError):
    """A new session would take the worker over its memory budget."""


class GatewayGone(Unavailable, RuntimeError):
    """The gateway went silent (or, for a local worker, its process died)."""


class WorkerRefused(FailedPrecondition, RuntimeError):
    """The gateway refused this worker's ``ready`` (or never answered it)."""


class Worker:
    """The worker loop. ``run()`` blocks until ``shutdown`` or the gateway goes away.

    Args:
        connect: the gateway's worker address (``ipc://`` or ``tcp://``).
        name: a label for the gateway's logs (the gateway names local workers itself).
        token: shared token; required on tcp (CURVE keys and ``ready``).
        spawn_key: the per-spawn key a gateway gives the local workers it starts.
        options: generator options.
        memory_budget_bytes: estimated session state this worker holds before it refuses new
            sessions with RESOURCE_EXHAUSTED (0: no budget).
        gateway_pid: for a local worker, the gateway process that spawned it: the worker exits
            when that process is no longer its parent.
    """

    def __init__(self, connect: str, name: str, token: str | None = None,
                 options: GeneratorOptions | None = None, spawn_key: str | None = None,
                 memory_budget_bytes: int = 0, gateway_pid: int | None = None):
        self.connect = connect
        self.name = name
        self.token = token or ""
        self.spawn_key = spawn_key or ""
        self.options = options or GeneratorOptions()
        self.memory_budget_bytes = int(memory_budget_bytes)
        self.gateway_pid = gateway_pid
        self.sessions: dict[str, WorkerSession] = {}
        self.worker_id = ""
        self._ctx: zmq.Context[Any] = zmq.Context.instance()
        self._stop = threading.Event()
        self._codec = proto.Codec(proto.WORKER_BOUND)

    def _gateway_alive(self) -> bool:
        """For a local worker: whether the gateway that spawned it is still its parent."""
        return self.gateway_pid is None or os.getppid() == self.gateway_pid

    def _device(self) -> str:
        try:
            import torch

            if torch.cuda.is_available():
                return f"cuda:{torch.cuda.current_device()} {torch.cuda.get_device_name()}"
        except ImportError:
            pass
        return f"cpu ({os.cpu_count()} cores)"

    def _socket(self) -> zmq.Socket:
        sock = self._ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        secure_client(sock, self.connect, self.token)
        sock.connect(self.connect)
        return sock

    def _heartbeat(self, lease: bytes) -> None:
        sock = self._socket()
        msg = proto.Codec(proto.WORKER_BOUND).encode(proto.Heartbeat(lease=lease))
        while not self._stop.wait(HEARTBEAT_INTERVAL_S):
            sock.send_multipart(msg)
        sock.close()

    def _handshake(self, sock: zmq.Socket) -> bytes:
        """Send ``ready`` and wait for ``welcome``; returns the lease.

        Raises:
            WorkerRefused: refused, or no answer within :data:`WELCOME_TIMEOUT_S`.
        """
        sock.send_multipart(self._codec.encode(proto.Ready(
            name=self.name[:proto.MAX_TEXT], pid=os.getpid(), device=self._device(),
            generators=available_generators(self.options), spawn_key=self.spawn_key,
            token=self.token)))
        deadline = time.monotonic() + WELCOME_TIMEOUT_S
        while True:
            left_ms = int((deadline - time.monotonic()) * 1e3)
            if left_ms <= 0 or not sock.poll(left_ms):
                raise WorkerRefused(f"no answer from the gateway at {self.connect} within "
                                    f"{WELCOME_TIMEOUT_S:.0f} s (wrong address, or a token that does "
                                    "not match the gateway's)")
            try:
                msg = self._codec.decode(sock.recv_multipart(copy=False))
            except proto.ProtocolError as e:
                log.warning("dropping a malformed message while waiting for welcome: %s", e)
                continue
            if isinstance(msg, proto.Refused):
                raise WorkerRefused(f"the gateway refused this worker: {msg.reason}")
            if isinstance(msg, proto.Welcome):
                self.worker_id = msg.worker_id
                return msg.lease
            log.warning("ignoring %s before welcome", type(msg).__name__)

    def run(self) -> None:
        """Announce, then serve until ``shutdown``.

        Raises:
            WorkerRefused: the gateway did not accept this worker.
        """
        from worldbridge.memory import warmup

        warmup()  # compile the CPU renderer and memory kernels before announcing ready
        sock = self._socket()
        try:
            lease = self._handshake(sock)
            log.info("serving as %s", self.worker_id)
            hb = threading.Thread(target=self._heartbeat, args=(lease,), daemon=True, name="heartbeat")
            hb.start()
            last_heard = time.monotonic()
            while True:
                if not sock.poll(1000):
                    silence = time.monotonic() - last_heard
                    if silence > proto.GATEWAY_SILENCE_S or not self._gateway_alive():
                        raise GatewayGone(f"no word from the gateway at {self.connect} for "
                                          f"{silence:.0f} s")
                    continue
                frames = sock.recv_multipart(copy=False)
                last_heard = time.monotonic()
                try:
                    msg = self._codec.decode(frames)
                except proto.ProtocolError as e:
                    log.warning("dropping a malformed gateway message: %s", e)
                    continue
                if isinstance(msg, proto.Shutdown):
                    break
                if isinstance(msg, proto.Ping):
                    continue
                if not isinstance(msg, (proto.OpenSession, proto.Render, proto.CloseSession)):
                    log.warning("ignoring an unexpected %s", type(msg).__name__)
                    continue
                sock.send_multipart(self._codec.encode(self.handle(msg)), copy=False)
        finally:
            self._stop.set()
            sock.close()

    def handle(self, msg: proto.OpenSession | proto.Render | proto.CloseSession) -> proto.Reply:
        """Serve one request; never raises (errors become error-status replies)."""
        t_recv = time.perf_counter()

        def error(status: proto.Status, message: str) -> proto.Reply:
            return proto.Reply(id=msg.id, status=status, message=proto.clip(message, 1000))

        result: proto.OpenResult | proto.FrameResult | proto.CloseResult
        try:
            if isinstance(msg, proto.Render):
                result = self._render(msg, t_recv)
            elif isinstance(msg, proto.OpenSession):
                result = self._open(msg)
            else:
                sess = self.sessions.pop(msg.session, None)
                result = proto.CloseResult(frames_served=sess.frames_served if sess else 0)
            return proto.Reply(id=msg.id, status=proto.Status.OK, result=result)
        except UnknownGeneratorError as e:
            return error(proto.Status.INVALID_ARGUMENT, str(e))
        except GeneratorUnavailableError as e:
            return error(proto.Status.FAILED_PRECONDITION, str(e))
        except SessionNotFound as e:
            return error(proto.Status.NOT_FOUND, str(e))
        except MemoryBudgetExceeded as e:
            return error(proto.Status.RESOURCE_EXHAUSTED, str(e))
        except Exception as e:  # a bug must not kill the worker and its other sessions
            log.error("request %s failed:\n%s", msg.id, traceback.format_exc())
            return error(proto.Status.INTERNAL, f"{type(e).__name__}: {e}")

    def _open(self, msg: proto.OpenSession) -> proto.OpenResult:
        views = [v.posed_view() for v in msg.views]
        out = msg.output
        spec = OutputSpec(out.width, out.height, out.format, out.row_order, out.jpeg_quality)
        if self.memory_budget_bytes:
            held = sum(sess.estimated_bytes() for sess in self.sessions.values())
            needed = WorkerSession.estimate_open_bytes(views, spec)
            if held + needed > self.memory_budget_bytes:
                raise MemoryBudgetExceeded(
                    f"render worker {self.worker_id} holds about {held / 2**20:.0f} MiB in "
                    f"{len(self.sessions)} sessions and this one needs up to {needed / 2**20:.0f} MiB, "
                    f"over its memory budget of {self.memory_budget_bytes / 2**20:.0f} MiB; close a "
                    "session or lower the resolution")
        lock = msg.anchor_lock
        options = self.options if lock is None else replace(self.options, anchor_lock=lock)
        if msg.bundle is not None:
            options = replace(options, bundle=Path(msg.bundle))
        sess = WorkerSession(views, msg.generator, spec, msg.seed, options=options)
        self.sessions[msg.session] = sess
        return proto.OpenResult(anchor_points=sess.memory.num_points)

    def _render(self, msg: proto.Render, t_recv: float) -> proto.FrameResult:
        sess = self.sessions.get(msg.session)
        if sess is None:
            raise SessionNotFound(f"session {proto.clip(msg.session, 64)!r} is not open on worker "
                                  f"{self.worker_id}")
        frame = sess.render(msg.camera(), msg.depth, msg.keyframe)
        out = sess.output
        return proto.FrameResult(
            texture=np.frombuffer(frame.texture, dtype=np.uint8), width=out.width,
            height=out.height, format=out.format, row_order=out.row_order,
            anchor_ms=frame.anchor_ms, model_ms=frame.model_ms, encode_ms=frame.encode_ms,
            coverage=frame.coverage, worker_ms=(time.perf_counter() - t_recv) * 1e3)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m worldbridge.serving.worker`` and ``worldbridge worker``."""
    p = argparse.ArgumentParser(prog="worldbridge worker", description="Run one render worker.")
    p.add_argument("--connect", required=True, help="gateway worker address, ipc:// or tcp://")
    p.add_argument("--name", "--worker-id", dest="name", default=f"{os.uname().nodename}-{os.getpid()}",
                   help="label for the gateway's logs and server info")
    p.add_argument("--token-file", type=Path, default=None,
                   help="file holding the shared token (default: $WORLDBRIDGE_TOKEN)")
    p.add_argument("--token", default=None,
                   help="the shared token itself; visible to other users in ps, prefer --token-file")
    p.add_argument("--memory-budget-mb", type=int, default=None,
                   help="estimated session memory before new sessions are refused (default: half "
                        "of this machine's memory; 0: no budget)")
    add_generator_arguments(p)
    args = p.parse_args(argv)
    try:
        options = GeneratorOptions.from_args(args)
        token = read_token(args.token_file, args.token)
    except ValueError as e:
        p.error(str(e))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    spawn_key = os.environ.pop(SPAWN_KEY_ENV, None)
    gateway_pid_env = os.environ.pop(GATEWAY_PID_ENV, None)
    gateway_pid = int(gateway_pid_env) if gateway_pid_env and gateway_pid_env.isdigit() else None
    if gateway_pid is not None:
        _exit_with_parent(gateway_pid)
    try:
        budget = default_memory_budget() if args.memory_budget_mb is None else args.memory_budget_mb * 2**20
        Worker(args.connect, args.name, token, options, spawn_key=spawn_key,
               memory_budget_bytes=budget, gateway_pid=gateway_pid).run()
    except WorkerRefused as e:
        log.error("%s", e)
        return exit_code(e)  # 5: failed precondition
    except GatewayGone as e:
        log.error("%s; exiting", e)
        return exit_code(e)  # 7: unavailable
    finally:
        if gateway_pid is not None and (path := ipc_path(args.connect)) is not None:
            remove_if_orphaned(path.parent)  # the gateway was killed: its socket folder too
    return 0


def _exit_with_parent(gateway_pid: int) -> None:
    """A local worker ends with its gateway: SIGTERM when the parent dies (Linux
    ``PR_SET_PDEATHSIG``), turned into a normal exit so cleanup runs; elsewhere the main loop
    notices the new parent within a second."""
    signal.signal(signal.SIGTERM, _terminate)
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            log.warning("prctl(PR_SET_PDEATHSIG) failed: errno %d", ctypes.get_errno())
    if os.getppid() != gateway_pid:  # the gateway died before the signal was armed
        raise SystemExit(4)


def _terminate(signum, frame) -> None:
    signal.signal(signum, signal.SIG_IGN)  # once: cleanup and interpreter exit run undisturbed
    raise SystemExit(128 + signum)

