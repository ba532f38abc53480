"""A blocking Python client for the WorldBridge service.

What the Unreal and Unity plugins do, in Python: handshake, open a session from reference
views, stream poses and receive frames, record trajectories. Used by the Panda3D engine
example, the demo, the tests and the benchmarks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import numpy as np

from worldbridge.client.messages import (
    PosedImage,
    PoseRequest,
    depth_message,
    hello,
    intrinsics_message,
    pose_message,
    rgb_message,
)
from worldbridge.v1 import (
    frames_pb2,
    handshake_pb2,
    image_pb2,
    recording_pb2,
    service_pb2_grpc,
    session_pb2,
)
from worldbridge.wire.texture import RowOrder, TextureFormat, decode_texture

__all__ = ["BridgeClient", "Session", "ReceivedFrame", "RecordingResult"]

_MAX_MESSAGE = 64 * 1024 * 1024


@dataclass
class ReceivedFrame:
    """A frame as the client receives it.

    Attributes:
        sequence: echo of the request's sequence number.
        rgb: ``[H, W, 3]`` uint8 RGB top-down (None when ``error`` is set).
        texture: the raw wire texture.
        timings_ms: ``queue``, ``anchor``, ``model``, ``encode``, ``server_total`` (server side)
            and ``round_trip`` (client send to receipt), milliseconds.
        skipped: sequences the server dropped since the previous frame (newest pose wins).
        coverage: fraction of pixels covered by anchors.
        error: None, or ``"<CODE>: message"`` for a request that failed.
    """

    sequence: int
    rgb: np.ndarray | None
    texture: image_pb2.Texture | None
    timings_ms: dict[str, float]
    skipped: list[int]
    coverage: float
    error: str | None = None
    error_code: grpc.StatusCode | None = None


@dataclass
class RecordingResult:
    """Server's summary of a recording."""

    name: str
    path: str
    frames_written: int
    rejected: list[tuple[int, str]] = field(default_factory=list)
    duration_s: float = 0.0


_CODES = {c.value[0]: c for c in grpc.StatusCode}


class Session:
    """An open session. Create with :meth:`BridgeClient.open_session`."""

    def __init__(self, client: BridgeClient, response: session_pb2.OpenSessionResponse,
                 decode: bool = True):
        self._client = client
        self.session_id = response.session_id
        self.worker_id = response.worker_id
        self.anchor_points = response.anchor_points
        self.warnings = list(response.warnings)
        self.decode = decode

    def _request(self, seq: int, pose: PoseRequest) -> frames_pb2.FrameRequest:
        req = frames_pb2.FrameRequest(session_id=self.session_id, sequence=seq,
                                      client_timestamp_us=time.time_ns() // 1000,
                                      pose=pose_message(pose.c2w, pose.convention),
                                      keyframe=pose.keyframe)
        if pose.intrinsics is not None:
            req.intrinsics.CopyFrom(intrinsics_message(pose.intrinsics))
        if pose.depth is not None:
            req.depth.CopyFrom(depth_message(pose.depth))
        return req

    def stream(self, poses: Iterable[PoseRequest | frames_pb2.FrameRequest],
               lockstep: bool = True) -> Iterator[ReceivedFrame]:
        """Stream poses and yield frames as they arrive.

        Args:
            poses: PoseRequests (numbered 0, 1, ... here) or ready-made FrameRequests.
            lockstep: send the next pose only after the previous frame arrived (one frame per
                pose). With False, poses are sent as fast as ``poses`` yields them and the
                server drops overtaken ones (newest pose wins), as an engine's tick does.

        Raises:
            grpc.RpcError: the stream ended with a status (session lost, worker died, ...).
        """
        sent: dict[int, float] = {}
        turn = threading.Semaphore(1)
        done = threading.Event()

        def requests() -> Iterator[frames_pb2.FrameRequest]:
            for i, p in enumerate(poses):
                req = p if isinstance(p, frames_pb2.FrameRequest) else self._request(i, p)
                if lockstep:
                    while not turn.acquire(timeout=0.1):
                        if done.is_set():
                            return
                sent[req.sequence] = time.perf_counter()
                yield req

        call = self._client._stub.StreamFrames(requests(), metadata=self._client._metadata)
        try:
            for f in call:
                t_recv = time.perf_counter()
                t_sent = sent.pop(f.sequence, t_recv)
                for s in f.skipped_sequences:
                    sent.pop(s, None)
                yield self._received(f, (t_recv - t_sent) * 1e3)
                if lockstep:
                    turn.release()
        finally:
            done.set()
            call.cancel()

    def _received(self, f: frames_pb2.Frame, round_trip_ms: float) -> ReceivedFrame:
        t = f.timings
        timings = {"queue": t.queue_ms, "anchor": t.anchor_ms, "model": t.model_ms,
                   "encode": t.encode_ms, "server_total": t.server_total_ms,
                   "round_trip": round_trip_ms}
        if f.HasField("error"):
            code = _CODES.get(f.error.code, grpc.StatusCode.UNKNOWN)
            return ReceivedFrame(f.sequence, None, None, timings, list(f.skipped_sequences), 0.0,
                                 f"{code.name}: {f.error.message}", code)
        tex = f.texture
        rgb = decode_texture(tex.data, tex.width, tex.height, tex.format, tex.row_order) \
            if self.decode else None
        return ReceivedFrame(f.sequence, rgb, tex, timings, list(f.skipped_sequences),
                             f.anchor_coverage)

    def render(self, pose: PoseRequest) -> ReceivedFrame:
        """One pose, one frame (a stream of length one)."""
        return next(iter(self.stream([pose])))

    def close(self) -> int:
        """Close the session; returns the frames it served."""
        r = self._client._stub.CloseSession(session_pb2.CloseSessionRequest(session_id=self.session_id),
                                            metadata=self._client._metadata,
                                            timeout=self._client.timeout_s)
        return r.frames_served


class BridgeClient:
    """Connects to a WorldBridge server and performs the protocol handshake.

    Args:
        target: ``host:port``.
        token: shared token (sent as ``authorization: Bearer``), or None.
        timeout_s: deadline for connecting and for unary calls, seconds.
        tls_root_cert: PEM bytes or path of the CA/server certificate for TLS; None = plaintext.
        server_name_override: TLS host name to check (e.g. for a self-signed "localhost" cert).

    Raises:
        grpc.RpcError: the server is unreachable in ``timeout_s`` (DEADLINE_EXCEEDED /
            UNAVAILABLE), refuses the token, or speaks another protocol major version
            (FAILED_PRECONDITION).
    """

    def __init__(self, target: str, token: str | None = None, timeout_s: float = 10.0,
                 tls_root_cert: bytes | str | Path | None = None,
                 server_name_override: str | None = None):
        options: list[tuple[str, int | str]] = [("grpc.max_receive_message_length", _MAX_MESSAGE),
                   ("grpc.max_send_message_length", _MAX_MESSAGE)]
        if tls_root_cert is not None:
            pem = tls_root_cert if isinstance(tls_root_cert, bytes) else Path(tls_root_cert).read_bytes()
            if server_name_override:
                options.append(("grpc.ssl_target_name_override", server_name_override))
            self._channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(pem), options)
        else:
            self._channel = grpc.insecure_channel(target, options)
        self.target = target
        self.timeout_s = timeout_s
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._stub = service_pb2_grpc.WorldBridgeStub(self._channel)
        self.info: handshake_pb2.ServerInfo = self.refresh_info(wait_for_ready=True)

    def refresh_info(self, wait_for_ready: bool = False) -> handshake_pb2.ServerInfo:
        """Ask the server again (its workers, and bundles registered since); updates :attr:`info`.

        Raises:
            grpc.RpcError: as GetServerInfo.
        """
        self.info = self._stub.GetServerInfo(handshake_pb2.GetServerInfoRequest(hello=hello()),
                                             metadata=self._metadata, timeout=self.timeout_s,
                                             wait_for_ready=wait_for_ready)
        return self.info

    @property
    def stub(self) -> service_pb2_grpc.WorldBridgeStub:
        """The raw gRPC stub (for requests this client does not wrap)."""
        return self._stub

    @property
    def metadata(self) -> tuple:
        return self._metadata

    def open_session(self, views: list[PosedImage], generator: str = "anchor",
                     width: int | None = None, height: int | None = None,
                     texture_format: TextureFormat = TextureFormat.RGBA8,
                     row_order: RowOrder = RowOrder.TOP_DOWN, jpeg_quality: int = 90,
                     seed: int = 0, decode: bool = True, anchor_lock: bool | None = None,
                     bundle: str = "") -> Session:
        """Open a session from reference views (see :class:`PosedImage`).

        Args:
            width, height: output texture size; default the first view's size.
            decode: decode received textures to RGB arrays.
            anchor_lock: True: the frame model keeps every covered anchor pixel and fills
                only holes; False: it regenerates every pixel (restyling); None: the
                server's default.
            bundle: a frame-model bundle the server knows (:attr:`info` ``.bundles``) by name,
                for the ``frame-model`` generator; "": the server's default bundle.
        """
        lock = {None: session_pb2.ANCHOR_LOCK_UNSPECIFIED, True: session_pb2.ANCHOR_LOCK_ON,
                False: session_pb2.ANCHOR_LOCK_OFF}[anchor_lock]
        req = session_pb2.OpenSessionRequest(
            hello=hello(), generator=generator, seed=seed,
            generator_options=session_pb2.GeneratorOptions(anchor_lock=lock, bundle=bundle))
        for v in views:
            rv = req.reference_views.add(rgb=rgb_message(v.rgb), pose=pose_message(v.c2w, v.convention),
                                         intrinsics=intrinsics_message(v.intrinsics))
            if v.depth is not None:
                rv.depth.CopyFrom(depth_message(v.depth))
        req.output.CopyFrom(image_pb2.TextureSpec(width=width or 0, height=height or 0,
                                                  format=int(texture_format),  # type: ignore[arg-type]
                                                  row_order=int(row_order),  # type: ignore[arg-type]
                                                  jpeg_quality=jpeg_quality))
        resp = self._stub.OpenSession(req, metadata=self._metadata, timeout=max(self.timeout_s, 60))
        return Session(self, resp, decode)

    def record(self, name: str, views: Iterable[PosedImage], description: str = "") -> RecordingResult:
        """Stream views into a new dataset ``name`` on the server.

        Raises:
            grpc.RpcError: INVALID_ARGUMENT for a bad name, ALREADY_EXISTS for an existing one.
        """
        def requests() -> Iterator[recording_pb2.RecordRequest]:
            yield recording_pb2.RecordRequest(header=recording_pb2.RecordingHeader(
                hello=hello(), dataset_name=name, description=description))
            for i, v in enumerate(views):
                f = recording_pb2.CapturedFrame(sequence=i, client_timestamp_us=time.time_ns() // 1000,
                                                pose=pose_message(v.c2w, v.convention),
                                                intrinsics=intrinsics_message(v.intrinsics),
                                                rgb=rgb_message(v.rgb))
                if v.depth is not None:
                    f.depth.CopyFrom(depth_message(v.depth))
                yield recording_pb2.RecordRequest(frame=f)

        s = self._stub.RecordTrajectory(requests(), metadata=self._metadata)
        return RecordingResult(s.dataset_name, s.path, s.frames_written,
                               [(r.sequence, r.message) for r in s.rejected], s.duration_s)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> BridgeClient:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
