"""The gateway <-> render worker protocol: typed messages, validated while decoding.

Every message on the worker channel is one of the :class:`msgspec.Struct` types below,
tagged by its ``op`` field. A ZeroMQ message is ``[header, buf_0, buf_1, ...]``: the header
is the msgpack encoding of the Struct, and every numpy array in it is a msgpack extension
(type :data:`ARRAY_EXT`) holding ``[buffer index, dtype, shape]`` that points at a later
frame, sent without copying and received as a read-only view. Decoding checks the whole
structure against the expected union of types (wrong types, missing fields, unknown ops and
unknown status codes are refused), allows only the dtypes in :data:`ARRAY_DTYPES`, checks
every buffer's size against its dtype and shape, and checks the shapes each message needs
(a 4x4 ``c2w``, ``[H, W, 3]`` RGB, ...). Nothing is executed: no pickle.

Nothing that arrives on the worker socket is trusted until :meth:`Codec.decode` has
accepted it; a message it refuses raises :class:`ProtocolError`, which the receive loops
log and drop.

Channel handshake (see :mod:`worldbridge.serving.gateway.worker_pool`):

1. a worker connects and sends :class:`Ready` (with the spawn key of a local worker, or the
   token of a remote one);
2. the gateway answers :class:`Welcome` with a random lease, or :class:`Refused`;
3. the worker's heartbeat thread sends :class:`Heartbeat` with that lease;
4. requests (:class:`OpenSession`, :class:`Render`, :class:`CloseSession`) carry an id that
   the :class:`Reply` echoes; :class:`Shutdown` stops the worker.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any, Union, cast

import msgspec
import numpy as np

from worldbridge.errors import InvalidInput
from worldbridge.geometry.intrinsics import Intrinsics
from worldbridge.geometry.views import Camera, PosedView

__all__ = [
    "ARRAY_DTYPES", "ARRAY_EXT", "MAX_ARRAY_DIMS", "MAX_TEXT", "Codec", "ProtocolError", "Status",
    "Intrinsics6", "View", "Output", "Ready", "Welcome", "Refused", "Heartbeat", "OpenSession",
    "Render", "CloseSession", "Shutdown", "Reply", "OpenResult", "FrameResult", "CloseResult",
    "GATEWAY_BOUND", "WORKER_BOUND", "clip", "Ping", "PING_INTERVAL_S", "GATEWAY_SILENCE_S",
]

ARRAY_EXT = 1
"""msgpack extension type code of an out-of-band numpy array."""

ARRAY_DTYPES = frozenset({"|u1", "|b1", "<u2", "<f2", "<f4", "<f8"})
"""dtypes an array on the channel may have (little-endian; what frames and depth use)."""

MAX_ARRAY_DIMS = 4
MAX_TEXT = 2000
"""Longest text field (names, messages) accepted on the channel, characters."""

PING_INTERVAL_S = 1.0
"""How often the gateway pings each serving worker."""

GATEWAY_SILENCE_S = 10.0
"""Silence from the gateway after which an idle worker concludes it is gone and exits."""


class ProtocolError(InvalidInput):
    """A message that is not a valid protocol message (the text names what is wrong)."""


class Status(enum.IntEnum):
    """Outcome of a request; the values are the gRPC status codes the gateway returns."""

    OK = 0
    INVALID_ARGUMENT = 3
    NOT_FOUND = 5
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    INTERNAL = 13
    UNAVAILABLE = 14


def clip(text: str, limit: int = 200) -> str:
    """``text`` cut to ``limit`` characters (with the original length noted), for log lines
    and error messages that echo untrusted input."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _check_text(name: str, value: str) -> None:
    if len(value) > MAX_TEXT:
        raise ValueError(f"{name} is {len(value)} characters long (at most {MAX_TEXT})")


def _check_array(name: str, a: np.ndarray | None, shape: tuple, dtypes: tuple[str, ...]) -> None:
    """``shape`` uses -1 for any size, e.g. ``(-1, -1, 3)``."""
    if a is None:
        return
    if a.dtype.str not in dtypes:
        raise ValueError(f"{name} has dtype {a.dtype.str}, expected one of {list(dtypes)}")
    if a.ndim != len(shape) or any(s != -1 and s != n for s, n in zip(shape, a.shape)):
        raise ValueError(f"{name} has shape {list(a.shape)}, expected {[s if s >= 0 else 'N' for s in shape]}")


class Intrinsics6(msgspec.Struct, array_like=True, frozen=True):
    """Pinhole intrinsics in pixels (fx, fy, cx, cy, width, height), sent as a 6-array."""

    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int

    @classmethod
    def of(cls, k: Intrinsics) -> Intrinsics6:
        """The message of an :class:`Intrinsics`."""
        return cls(float(k.fx), float(k.fy), float(k.cx), float(k.cy), int(k.width), int(k.height))

    def intrinsics(self) -> Intrinsics:
        """The :class:`Intrinsics` it carries.

        Raises:
            IntrinsicsError (a ValueError): non-finite or non-positive values or sizes.
        """
        return Intrinsics(self.fx, self.fy, self.cx, self.cy, self.width, self.height)


class View(msgspec.Struct, frozen=True):
    """A posed reference view: ``rgb`` [H, W, 3] uint8, ``depth`` [H, W] float32 metres
    (planar, OpenCV; None when absent), ``c2w`` [4, 4] float64 OpenCV camera-to-world."""

    rgb: np.ndarray
    depth: np.ndarray | None
    c2w: np.ndarray
    K: Intrinsics6

    def __post_init__(self) -> None:
        _check_array("rgb", self.rgb, (-1, -1, 3), ("|u1",))
        _check_array("depth", self.depth, (-1, -1), ("<f4",))
        _check_array("c2w", self.c2w, (4, 4), ("<f8",))

    @classmethod
    def of(cls, view: PosedView) -> View:
        """The message of a view with rgb (sent by the gateway)."""
        return cls(rgb=cast(np.ndarray, view.rgb), depth=view.depth, c2w=view.camera.c2w,
                   K=Intrinsics6.of(view.intrinsics))

    def posed_view(self) -> PosedView:
        """The :class:`PosedView` it carries; its camera is checked here, once per process.

        Raises:
            ValueError: a c2w that is not a finite rigid transform (``PoseError``), bad
                intrinsics, or arrays not of the intrinsics' size.
        """
        return PosedView(Camera(self.c2w, self.K.intrinsics()), self.rgb, self.depth)


class Output(msgspec.Struct, frozen=True):
    """A session's output: size in pixels, wire texture format and row order (image.proto
    values), JPEG quality 1..100."""

    width: int
    height: int
    format: int
    row_order: int
    jpeg_quality: int = 90


# --- worker -> gateway ----------------------------------------------------------------------

class Ready(msgspec.Struct, tag_field="op", tag="ready", frozen=True):
    """A worker announces itself. ``name`` is a label for logs only: the gateway identifies a
    worker by its connection. A local worker proves itself with ``spawn_key`` (given to it by
    the gateway at spawn), a remote one with ``token``."""

    name: str
    pid: int
    device: str
    generators: list[str]
    spawn_key: str = ""
    token: str = ""

    def __post_init__(self) -> None:
        for field in ("name", "device", "spawn_key", "token"):
            _check_text(field, getattr(self, field))
        if len(self.generators) > 64:
            raise ValueError(f"{len(self.generators)} generators (at most 64)")
        for g in self.generators:
            _check_text("generator", g)


class Heartbeat(msgspec.Struct, tag_field="op", tag="heartbeat", frozen=True):
    """Liveness, sent over a second connection; ``lease`` is the one :class:`Welcome` gave."""

    lease: bytes


class OpenResult(msgspec.Struct, tag_field="kind", tag="open", frozen=True):
    anchor_points: int


class FrameResult(msgspec.Struct, tag_field="kind", tag="frame", frozen=True):
    """One rendered frame: the encoded texture (uint8 array), its layout, stage timings in
    milliseconds and the anchor coverage (0..1)."""

    texture: np.ndarray
    width: int
    height: int
    format: int
    row_order: int
    anchor_ms: float
    model_ms: float
    encode_ms: float
    coverage: float
    worker_ms: float

    def __post_init__(self) -> None:
        _check_array("texture", self.texture, (-1,), ("|u1",))


class CloseResult(msgspec.Struct, tag_field="kind", tag="close", frozen=True):
    frames_served: int


class Reply(msgspec.Struct, tag_field="op", tag="reply", frozen=True):
    """The answer to request ``id``: ``status`` OK with the result of its kind, or an error
    status with ``message``."""

    id: int
    status: Status
    message: str = ""
    result: OpenResult | FrameResult | CloseResult | None = None

    def __post_init__(self) -> None:
        _check_text("message", self.message)


# --- gateway -> worker ----------------------------------------------------------------------

class Welcome(msgspec.Struct, tag_field="op", tag="welcome", frozen=True):
    """The gateway accepted :class:`Ready`; heartbeats must carry ``lease``."""

    lease: bytes
    worker_id: str


class Refused(msgspec.Struct, tag_field="op", tag="refused", frozen=True):
    """The gateway refused :class:`Ready`; the worker exits with ``reason``."""

    reason: str


class OpenSession(msgspec.Struct, tag_field="op", tag="open", frozen=True):
    """Build a session's scene memory from ``views`` and create its generator (from ``bundle``
    when set)."""

    id: int
    session: str
    generator: str
    seed: int
    anchor_lock: bool | None
    views: list[View]
    output: Output
    bundle: str | None = None
    """Folder of the frame-model bundle the session named (resolved by the gateway in its
    configured bundle folders); None: the worker's default bundle."""


class Render(msgspec.Struct, tag_field="op", tag="render", frozen=True):
    """Render ``session`` at ``c2w`` [4, 4] float64 (OpenCV, metres) with intrinsics ``K``;
    ``depth`` [H, W] float32 metres when the engine sent one; ``keyframe`` lifts the frame
    into the memory."""

    id: int
    session: str
    c2w: np.ndarray
    K: Intrinsics6
    depth: np.ndarray | None = None
    keyframe: bool = False

    def __post_init__(self) -> None:
        _check_array("c2w", self.c2w, (4, 4), ("<f8",))
        _check_array("depth", self.depth, (-1, -1), ("<f4",))

    @classmethod
    def at(cls, camera: Camera, *, session: str, depth: np.ndarray | None = None,
           keyframe: bool = False, id: int = 0) -> Render:  # noqa: A002 (the message's field)
        """The message rendering ``session`` at ``camera`` (sent by the gateway)."""
        return cls(id=id, session=session, c2w=camera.c2w, K=Intrinsics6.of(camera.intrinsics), depth=depth,
                   keyframe=keyframe)

    def camera(self) -> Camera:
        """The :class:`Camera` it carries, checked here, once per process.

        Raises:
            ValueError: a c2w that is not a finite rigid transform (``PoseError``) or bad
                intrinsics.
        """
        return Camera(self.c2w, self.K.intrinsics())


class CloseSession(msgspec.Struct, tag_field="op", tag="close", frozen=True):
    id: int
    session: str


class Shutdown(msgspec.Struct, tag_field="op", tag="shutdown", frozen=True):
    """Stop serving: the worker leaves its loop and exits."""


class Ping(msgspec.Struct, tag_field="op", tag="ping", frozen=True):
    """The gateway is alive (sent every :data:`PING_INTERVAL_S`); a worker that hears nothing
    from its gateway for :data:`GATEWAY_SILENCE_S` while idle exits."""


GATEWAY_BOUND = Union[Ready, Heartbeat, Reply]  # noqa: UP007 (a runtime value msgspec decodes into)
"""What the gateway accepts from a worker connection."""

WORKER_BOUND = Union[Welcome, Refused, OpenSession, Render, CloseSession, Shutdown, Ping]  # noqa: UP007 (as above)
"""What a worker accepts from the gateway."""


class Codec:
    """Encodes messages to ZeroMQ frames and decodes frames into one of ``accepts``.

    One instance per thread (it holds the buffers of the message being decoded).

    Args:
        accepts: the union of Struct types :meth:`decode` admits (:data:`GATEWAY_BOUND` on
            the gateway, :data:`WORKER_BOUND` on a worker).
        max_buffers: most out-of-band arrays in one message.
    """

    def __init__(self, accepts: Any, max_buffers: int = 64):
        self._encoder = msgspec.msgpack.Encoder(enc_hook=self._enc_hook)
        self._decoder = msgspec.msgpack.Decoder(accepts, ext_hook=self._ext_hook,
                                                dec_hook=self._dec_hook)
        self._out: list[Any] = []
        self._in: list[memoryview] = []
        self._used: set[int] = set()
        self.max_buffers = max_buffers

    # encoding --------------------------------------------------------------------------

    def _enc_hook(self, obj: Any) -> Any:
        if isinstance(obj, np.ndarray):
            arr = np.ascontiguousarray(obj)
            if arr.dtype.str not in ARRAY_DTYPES:
                raise TypeError(f"arrays on the worker channel must have one of {sorted(ARRAY_DTYPES)}, "
                                f"not {arr.dtype.str}")
            self._out.append(arr)
            return msgspec.msgpack.Ext(ARRAY_EXT, msgspec.msgpack.encode(
                [len(self._out) - 1, arr.dtype.str, list(arr.shape)]))
        if isinstance(obj, np.generic):
            return obj.item()
        raise TypeError(f"cannot send {type(obj).__name__} on the worker channel")

    def encode(self, message: msgspec.Struct) -> list[Any]:
        """``[header, *array buffers]`` for ``send_multipart(..., copy=False)``."""
        self._out = []
        try:
            header = self._encoder.encode(message)
            return [header, *self._out]
        finally:
            self._out = []

    # decoding --------------------------------------------------------------------------

    def _ext_hook(self, code: int, data: memoryview) -> Any:
        if code != ARRAY_EXT:
            raise ProtocolError(f"unknown msgpack extension type {code}")
        try:
            index, dtype, shape = msgspec.msgpack.decode(data, type=tuple[int, str, list[int]])
        except msgspec.DecodeError as e:
            raise ProtocolError(f"bad array marker: {e}") from None
        if not 0 <= index < len(self._in):
            raise ProtocolError(f"array marker points at buffer {index}, {len(self._in)} sent")
        if index in self._used:
            raise ProtocolError(f"buffer {index} is referenced twice")
        if dtype not in ARRAY_DTYPES:
            raise ProtocolError(f"array dtype {clip(dtype, 20)!r} is not allowed "
                                f"(one of {sorted(ARRAY_DTYPES)})")
        if len(shape) > MAX_ARRAY_DIMS or any(n < 0 for n in shape):
            raise ProtocolError(f"bad array shape {shape[:8]}")
        self._used.add(index)
        buf = self._in[index]
        dt = np.dtype(dtype)
        count = 1
        for n in shape:
            count *= n
        if count * dt.itemsize != buf.nbytes:
            raise ProtocolError(f"buffer {index} holds {buf.nbytes} bytes, shape {shape} of "
                                f"{dtype} needs {count * dt.itemsize}")
        arr = np.frombuffer(buf, dtype=dt).reshape(shape)
        arr.flags.writeable = False  # a view on the message: receivers copy before changing it
        return arr

    @staticmethod
    def _dec_hook(type_: type, obj: Any) -> Any:
        if type_ is np.ndarray and isinstance(obj, np.ndarray):
            return obj
        raise TypeError(f"expected an array, got {type(obj).__name__}")

    def decode(self, frames: Sequence[Any]) -> msgspec.Struct:
        """Decode ``[header, *buffers]`` (bytes or ``zmq.Frame``).

        Arrays come back as read-only views on the received buffers.

        Raises:
            ProtocolError: not a message of the accepted types (the text says why), a bad
                array marker or buffer, or a buffer no field refers to.
        """
        if not frames:
            raise ProtocolError("empty message")
        if len(frames) - 1 > self.max_buffers:
            raise ProtocolError(f"{len(frames) - 1} buffers (at most {self.max_buffers})")
        head = frames[0].bytes if hasattr(frames[0], "bytes") else frames[0]
        self._in = [f.buffer if hasattr(f, "buffer") else memoryview(f) for f in frames[1:]]
        self._used = set()
        try:
            message = self._decoder.decode(head)
        except ProtocolError:
            raise
        except (msgspec.DecodeError, msgspec.ValidationError) as e:
            raise ProtocolError(clip(str(e), 300)) from None
        except (ValueError, TypeError, OverflowError, RecursionError) as e:
            raise ProtocolError(f"undecodable message: {clip(str(e), 300)}") from None
        finally:
            n_in = len(self._in)
            used = len(self._used)
            self._in = []
            self._used = set()
        if used != n_in:
            raise ProtocolError(f"{n_in - used} of {n_in} buffers are not referenced")
        return message
