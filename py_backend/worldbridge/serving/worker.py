"""Render worker process: owns sessions (scene memory + generator) and renders frames.

A worker connects a ZeroMQ DEALER to the gateway's ROUTER, announces itself with a
``ready`` message (id, pid, device, generators, token), then serves ``open``, ``render``,
``close`` and ``shutdown`` requests one at a time, replying ``{"op": "reply", "id": ...,
"ok": bool, ...}``. A separate thread sends a ``heartbeat`` every
:data:`HEARTBEAT_INTERVAL_S` over its own socket so that a long render never looks like a
dead worker. Messages use :mod:`worldbridge.serving.codec` (msgpack + zero-copy arrays).

Run: ``python -m worldbridge.serving.worker --connect ipc:///tmp/wb.sock --worker-id w0``
(or ``worldbridge worker --connect tcp://gateway:5556`` on another machine).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
import traceback
from dataclasses import replace

import zmq

from worldbridge.generators import (
    GeneratorOptions,
    GeneratorUnavailableError,
    UnknownGeneratorError,
    add_generator_arguments,
    available_generators,
)
from worldbridge.geometry import Intrinsics
from worldbridge.serving import codec
from worldbridge.serving.session_state import OutputSpec, WorkerSession

__all__ = ["Worker", "main", "HEARTBEAT_INTERVAL_S"]

HEARTBEAT_INTERVAL_S = 0.5
log = logging.getLogger("worldbridge.worker")


class SessionNotFound(LookupError):
    """A render for a session this worker does not hold."""


def _intrinsics(k: list) -> Intrinsics:
    fx, fy, cx, cy, w, h = k
    return Intrinsics(float(fx), float(fy), float(cx), float(cy), int(w), int(h))


class Worker:
    """The worker loop. ``run()`` blocks until ``shutdown`` or the gateway goes away."""

    def __init__(self, connect: str, worker_id: str, token: str | None = None,
                 options: GeneratorOptions | None = None):
        self.connect = connect
        self.worker_id = worker_id
        self.token = token or ""
        self.options = options or GeneratorOptions()
        self.sessions: dict[str, WorkerSession] = {}
        self._ctx = zmq.Context.instance()
        self._stop = threading.Event()

    def _device(self) -> str:
        try:
            import torch

            if torch.cuda.is_available():
                return f"cuda:{torch.cuda.current_device()} {torch.cuda.get_device_name()}"
        except ImportError:
            pass
        return f"cpu ({os.cpu_count()} cores)"

    def _heartbeat(self) -> None:
        sock = self._ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.connect)
        msg = codec.encode({"op": "heartbeat", "worker": self.worker_id, "pid": os.getpid()})
        while not self._stop.wait(HEARTBEAT_INTERVAL_S):
            sock.send_multipart(msg)
        sock.close()

    def run(self) -> None:
        from worldbridge.memory import warmup

        warmup()  # compile the CPU renderer and memory kernels before announcing ready
        sock = self._ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.connect)
        sock.send_multipart(codec.encode({
            "op": "ready", "worker": self.worker_id, "pid": os.getpid(), "device": self._device(),
            "generators": available_generators(self.options), "token": self.token}))
        hb = threading.Thread(target=self._heartbeat, daemon=True, name="heartbeat")
        hb.start()
        try:
            while True:
                frames = sock.recv_multipart(copy=False)
                msg = codec.decode(frames)
                op = msg.get("op")
                if op == "shutdown":
                    break
                reply = self.handle(msg)
                sock.send_multipart(codec.encode(reply), copy=False)
        finally:
            self._stop.set()
            sock.close()

    def handle(self, msg: dict) -> dict:
        """Serve one request; never raises (errors become ``ok: False`` replies)."""
        rid = msg.get("id")
        t_recv = time.perf_counter()
        try:
            op = msg["op"]
            if op == "render":
                return {"op": "reply", "id": rid, "ok": True, **self._render(msg, t_recv)}
            if op == "open":
                return {"op": "reply", "id": rid, "ok": True, **self._open(msg)}
            if op == "close":
                sess = self.sessions.pop(msg["session"], None)
                return {"op": "reply", "id": rid, "ok": True,
                        "frames_served": sess.frames_served if sess else 0}
            return {"op": "reply", "id": rid, "ok": False, "code": "INVALID_ARGUMENT",
                    "message": f"unknown worker op {op!r}"}
        except UnknownGeneratorError as e:
            return {"op": "reply", "id": rid, "ok": False, "code": "INVALID_ARGUMENT", "message": str(e)}
        except GeneratorUnavailableError as e:
            return {"op": "reply", "id": rid, "ok": False, "code": "FAILED_PRECONDITION", "message": str(e)}
        except SessionNotFound as e:
            return {"op": "reply", "id": rid, "ok": False, "code": "NOT_FOUND", "message": str(e)}
        except Exception as e:  # a bug must not kill the worker and its other sessions
            log.error("request %s failed:\n%s", rid, traceback.format_exc())
            return {"op": "reply", "id": rid, "ok": False, "code": "INTERNAL",
                    "message": f"{type(e).__name__}: {e}"}

    def _open(self, msg: dict) -> dict:
        views = [{"rgb": v["rgb"], "depth": v["depth"], "c2w": v["c2w"],
                  "intrinsics": _intrinsics(v["K"])} for v in msg["views"]]
        out = msg["output"]
        spec = OutputSpec(out["width"], out["height"], out["format"], out["row_order"],
                          out["jpeg_quality"])
        lock = msg.get("anchor_lock")
        if lock is not None and not isinstance(lock, bool):
            raise ValueError(f"anchor_lock must be true, false or null, got {lock!r}")
        options = self.options if lock is None else replace(self.options, anchor_lock=lock)
        sess = WorkerSession(views, msg["generator"], spec, msg["seed"], options=options)
        self.sessions[msg["session"]] = sess
        return {"anchor_points": sess.memory.num_points}

    def _render(self, msg: dict, t_recv: float) -> dict:
        sess = self.sessions.get(msg["session"])
        if sess is None:
            raise SessionNotFound(f"session {msg['session']!r} is not open on worker {self.worker_id}")
        frame = sess.render(msg["c2w"], _intrinsics(msg["K"]), msg.get("depth"),
                            bool(msg.get("keyframe")))
        out = sess.output
        return {"texture": frame.texture, "width": out.width, "height": out.height,
                "format": out.format, "row_order": out.row_order, "anchor_ms": frame.anchor_ms, "model_ms": frame.model_ms,
                "encode_ms": frame.encode_ms, "coverage": frame.coverage,
                "worker_ms": (time.perf_counter() - t_recv) * 1e3}


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m worldbridge.serving.worker`` and ``worldbridge worker``."""
    p = argparse.ArgumentParser(prog="worldbridge worker", description="Run one render worker.")
    p.add_argument("--connect", required=True, help="gateway worker address, ipc:// or tcp://")
    p.add_argument("--worker-id", default=f"{os.uname().nodename}-{os.getpid()}")
    p.add_argument("--token", default=os.environ.get("WORLDBRIDGE_TOKEN"),
                   help="shared token (default: $WORLDBRIDGE_TOKEN)")
    add_generator_arguments(p)
    args = p.parse_args(argv)
    try:
        options = GeneratorOptions.from_args(args)
    except ValueError as e:
        p.error(str(e))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(levelname)s %(message)s")
    Worker(args.connect, args.worker_id, args.token, options).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
