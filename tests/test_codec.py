"""Worker message codec: msgpack headers with zero-copy array frames."""

import msgpack
import numpy as np
import pytest
import zmq

from worldbridge.serving import codec


def test_round_trip_arrays_bytes_and_scalars():
    rng = np.random.default_rng(0)
    msg = {"op": "render", "c2w": rng.normal(size=(4, 4)), "depth": rng.random((7, 5), dtype=np.float32),
           "mask": rng.random((3, 3)) > 0.5, "K": [1.0, 2.0, 3.0, 4.0, 5, 6], "texture": b"x" * 5000,
           "small": b"ab", "nested": {"views": [{"rgb": np.arange(12, dtype=np.uint8).reshape(2, 2, 3)}]},
           "none": None, "n": np.int64(7)}
    frames = codec.encode(msg)
    assert len(frames) == 6  # header + 4 arrays + 1 large bytes
    out = codec.decode(frames)
    np.testing.assert_array_equal(out["c2w"], msg["c2w"])
    assert out["depth"].dtype == np.float32 and out["mask"].dtype == bool
    np.testing.assert_array_equal(out["nested"]["views"][0]["rgb"], msg["nested"]["views"][0]["rgb"])
    assert bytes(out["texture"]) == msg["texture"] and out["small"] == b"ab"
    assert out["none"] is None and out["n"] == 7 and out["K"][4] == 5


def test_arrays_travel_without_copy_over_zmq():
    ctx = zmq.Context()
    a, b = ctx.socket(zmq.PAIR), ctx.socket(zmq.PAIR)
    a.setsockopt(zmq.LINGER, 0), b.setsockopt(zmq.LINGER, 0)
    a.bind("inproc://codec")
    b.connect("inproc://codec")
    big = np.random.default_rng(1).random((512, 512, 4), dtype=np.float32)
    a.send_multipart(codec.encode({"x": big}), copy=False)
    out = codec.decode(b.recv_multipart(copy=False))
    np.testing.assert_array_equal(out["x"], big)
    assert not out["x"].flags.owndata  # a view on the received buffer, not a copy
    del out
    a.close(), b.close()
    ctx.destroy(linger=0)


def test_rejects_pickle_only_objects():
    with pytest.raises(TypeError, match="cannot encode object"):
        codec.encode({"x": object()})


@pytest.mark.parametrize("frames, match", [
    ([], "empty"),
    ([b"\xc1"], "undecodable"),
    ([msgpack.packb([1, 2])], "must be a map"),
    ([msgpack.packb({"a": {"__nd__": 3, "dtype": "<f4", "shape": [2]}})], "missing buffer"),
    ([msgpack.packb({"a": {"__nd__": 0, "dtype": "<f4", "shape": [3]}}), b"\0" * 8], "shape"),
])
def test_malformed_messages(frames, match):
    with pytest.raises(codec.CodecError, match=match):
        codec.decode(frames)
