"""Gateway <-> worker message codec: msgpack headers, arrays as zero-copy ZeroMQ frames.

A message is a multipart ZeroMQ message ``[header, buf_0, buf_1, ...]``. The header is a
msgpack map; every numpy array (and every ``bytes`` value of at least
:data:`INLINE_BYTES_MAX` bytes) inside it is replaced by a small marker map
``{"__nd__": i, "dtype": "<f4", "shape": [...]}`` pointing at ``buf_i``, which is sent
without copying (``zmq`` ``copy=False``) and received as a read-only view. No pickle: the
worker never executes anything the gateway sends.
"""

from __future__ import annotations

from typing import Any, Sequence

import msgpack
import numpy as np

__all__ = ["encode", "decode", "CodecError", "INLINE_BYTES_MAX"]

INLINE_BYTES_MAX = 1024
_ND = "__nd__"


class CodecError(ValueError):
    """A malformed message (bad header, missing buffer, size mismatch)."""


def encode(message: dict[str, Any]) -> list[Any]:
    """Encode a message into ZeroMQ frames.

    Args:
        message: msgpack-able values, numpy arrays (any shape, numeric or bool dtype) and
            bytes, nested in dicts and lists.

    Returns:
        ``[header_bytes, *buffers]``; buffers are contiguous arrays/memoryviews, not copies
        where the input was already C-contiguous.
    """
    buffers: list[Any] = []

    def default(obj: Any) -> Any:
        if isinstance(obj, np.ndarray):
            arr = np.ascontiguousarray(obj)
            buffers.append(arr)
            return {_ND: len(buffers) - 1, "dtype": arr.dtype.str, "shape": list(arr.shape)}
        if isinstance(obj, np.generic):
            return obj.item()
        raise TypeError(f"cannot encode {type(obj).__name__} in a worker message")

    def walk(obj: Any) -> Any:
        if isinstance(obj, (bytes, bytearray, memoryview)) and len(obj) >= INLINE_BYTES_MAX:
            buffers.append(obj)
            return {_ND: len(buffers) - 1, "dtype": "bytes", "shape": [len(obj)]}
        if isinstance(obj, dict):
            return {k: walk(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [walk(v) for v in obj]
        return obj

    header = msgpack.packb(walk(message), default=default, use_bin_type=True)
    return [header, *buffers]


def decode(frames: Sequence[Any]) -> dict[str, Any]:
    """Decode ``[header, *buffers]`` (bytes or ``zmq.Frame``) back into a message.

    Arrays come back as read-only numpy views on the received buffers (no copy); large
    ``bytes`` values come back as ``memoryview``.

    Raises:
        CodecError: undecodable header, a marker pointing at a missing buffer, or a buffer
            whose size does not match its dtype and shape.
    """
    if not frames:
        raise CodecError("empty message")
    bufs = [f.buffer if hasattr(f, "buffer") else memoryview(f) for f in frames[1:]]
    head = frames[0].bytes if hasattr(frames[0], "bytes") else frames[0]

    def hook(obj: dict) -> Any:
        if _ND not in obj:
            return obj
        i = obj[_ND]
        if not isinstance(i, int) or not 0 <= i < len(bufs):
            raise CodecError(f"array marker {obj!r} points at a missing buffer ({len(bufs)} sent)")
        buf = bufs[i]
        if obj["dtype"] == "bytes":
            return buf
        dtype = np.dtype(obj["dtype"])
        shape = tuple(obj["shape"])
        arr = np.frombuffer(buf, dtype=dtype)
        if arr.size != int(np.prod(shape, dtype=np.int64)):
            raise CodecError(f"buffer {i} holds {arr.size} {dtype} values, shape {shape} needs "
                             f"{int(np.prod(shape))}")
        return arr.reshape(shape)

    try:
        out = msgpack.unpackb(head, object_hook=hook, raw=False)
    except CodecError:
        raise
    except Exception as e:  # msgpack raises several types for garbage
        raise CodecError(f"undecodable message header: {e}") from None
    if not isinstance(out, dict):
        raise CodecError(f"message header must be a map, got {type(out).__name__}")
    return out
