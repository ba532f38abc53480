"""Validation and conversion of wire messages into backend values (OpenCV, metres).

Everything a client sends passes through here before it reaches a worker or the disk. Each
function raises :class:`WireError` carrying the gRPC status code and a message that names
the offending field and value; the servicer turns it into a per-request error (the stream
lives on) or a call status.
"""

from __future__ import annotations

import grpc
import numpy as np

from worldbridge import PROTOCOL_VERSION
from worldbridge.errors import StatusError
from worldbridge.geometry import (
    Convention,
    DepthError,
    Intrinsics,
    IntrinsicsError,
    PoseError,
    decode_depth,
)
from worldbridge.geometry.views import Camera, EngineView, PosedView
from worldbridge.serving.limits import ServerLimits
from worldbridge.v1 import camera_pb2, handshake_pb2, image_pb2
from worldbridge.wire.texture import TextureError, decode_texture

__all__ = ["WireError", "check_hello", "parse_camera", "parse_intrinsics",
           "parse_depth", "parse_rgb", "parse_view"]


class WireError(StatusError):
    """A request that cannot be served, with the gRPC status code to report."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(code.name, message)
        self.code = code


MAX_FOCAL_PER_PIXEL = 1e6
"""Largest focal length accepted, in multiples of the image size (a field of view of ~1e-4 deg)."""

MAX_PRINCIPAL_OFFSET = 1e3
"""Farthest principal point accepted from the image origin, in image sizes."""


def _invalid(message: str) -> WireError:
    return WireError(grpc.StatusCode.INVALID_ARGUMENT, message)


def check_hello(hello: handshake_pb2.ClientHello) -> list[str]:
    """Check the client's protocol version.

    Returns:
        Warnings (a minor-version mismatch).

    Raises:
        WireError: FAILED_PRECONDITION when the major versions differ (or the client sent no
            version), naming both.
    """
    server = f"{PROTOCOL_VERSION[0]}.{PROTOCOL_VERSION[1]}"
    if not hello.HasField("protocol"):
        raise WireError(grpc.StatusCode.FAILED_PRECONDITION,
                        f"client sent no protocol version; server speaks {server}")
    client = f"{hello.protocol.major}.{hello.protocol.minor}"
    if hello.protocol.major != PROTOCOL_VERSION[0]:
        raise WireError(grpc.StatusCode.FAILED_PRECONDITION,
                        f"protocol major version mismatch: client {client}, server {server}")
    if hello.protocol.minor != PROTOCOL_VERSION[1]:
        return [f"protocol minor version differs: client {client}, server {server}; "
                "features newer than the older side are unavailable"]
    return []


def parse_camera(pose: camera_pb2.CameraPose, intrinsics: Intrinsics, field: str = "pose") -> Camera:
    """The pose checked once and converted to OpenCV metres (:meth:`Camera.from_engine`).

    Raises:
        WireError: INVALID_ARGUMENT for a missing/unknown convention, a matrix that is not 16
            finite values, or a non-rigid rotation.
    """
    try:
        return Camera.from_engine(np.asarray(pose.camera_to_world, dtype=np.float64), pose.convention, intrinsics)
    except PoseError as e:
        raise _invalid(f"{field}: {e}") from None


def parse_intrinsics(msg: camera_pb2.Intrinsics, limits: ServerLimits,
                     field: str = "intrinsics") -> Intrinsics:
    """Validate intrinsics.

    Raises:
        WireError: INVALID_ARGUMENT for non-finite/non-positive values or a size over the limit.
    """
    if max(msg.width, msg.height) > limits.max_texture_side:
        raise _invalid(f"{field}: size {msg.width}x{msg.height} exceeds the limit of "
                       f"{limits.max_texture_side} pixels per side")
    try:
        k = Intrinsics(msg.fx, msg.fy, msg.cx, msg.cy, msg.width, msg.height)
    except IntrinsicsError as e:
        raise _invalid(f"{field}: {e}") from None
    # Bounds that keep every later scaling and projection finite: a field of view of at
    # least about 1e-4 degrees, a principal point within 1000 image sizes of the image.
    for name, value, size in (("fx", k.fx, k.width), ("fy", k.fy, k.height)):
        if value > MAX_FOCAL_PER_PIXEL * size:
            raise _invalid(f"{field}: {name}={value:g} is over {MAX_FOCAL_PER_PIXEL:g} x the image size "
                           f"({size} px): not a camera")
    for name, value, size in (("cx", k.cx, k.width), ("cy", k.cy, k.height)):
        if abs(value) > MAX_PRINCIPAL_OFFSET * size:
            raise _invalid(f"{field}: {name}={value:g} lies over {MAX_PRINCIPAL_OFFSET:g} image sizes "
                           "from the image")
    return k


def parse_depth(msg: image_pb2.DepthImage, intrinsics: Intrinsics, field: str = "depth") -> np.ndarray:
    """Decode depth to ``[H, W]`` float32 planar z metres; its size must match the intrinsics.

    Raises:
        WireError: INVALID_ARGUMENT for a size that differs from the intrinsics, a byte length
            that does not match, an unknown encoding/kind, NaN or negative values.
    """
    if (msg.width, msg.height) != (intrinsics.width, intrinsics.height):
        raise _invalid(f"{field}: depth is {msg.width}x{msg.height} but the camera is "
                       f"{intrinsics.width}x{intrinsics.height}")
    try:
        return decode_depth(msg.data, msg.width, msg.height, msg.encoding, msg.kind, intrinsics)
    except DepthError as e:
        raise _invalid(f"{field}: {e}") from None


def parse_rgb(msg: image_pb2.Texture, limits: ServerLimits, field: str = "rgb") -> np.ndarray:
    """Decode an input colour image to ``[H, W, 3]`` uint8 RGB top-down.

    Raises:
        WireError: INVALID_ARGUMENT for a bad format, size or byte length.
    """
    if max(msg.width, msg.height) > limits.max_texture_side:
        raise _invalid(f"{field}: size {msg.width}x{msg.height} exceeds the limit of "
                       f"{limits.max_texture_side} pixels per side")
    try:
        return decode_texture(msg.data, msg.width, msg.height, msg.format, msg.row_order)
    except TextureError as e:
        raise _invalid(f"{field}: {e}") from None


def parse_view(pose: camera_pb2.CameraPose, intrinsics: camera_pb2.Intrinsics,
               rgb: image_pb2.Texture | None, depth: image_pb2.DepthImage | None,
               limits: ServerLimits, field: str, require_rgb: bool = True) -> EngineView:
    """Validate a posed view (reference view or captured frame).

    Args:
        rgb, depth: the messages, or None when the field is unset.
        field: name used in error messages, e.g. ``"reference_views[2]"``.
        require_rgb: whether a missing ``rgb`` is an error.

    Raises:
        WireError: INVALID_ARGUMENT naming the bad part; the RGB must have the intrinsics' size.
    """
    k = parse_intrinsics(intrinsics, limits, f"{field}.intrinsics")
    camera = parse_camera(pose, k, f"{field}.pose")
    image = None
    if rgb is not None:
        image = parse_rgb(rgb, limits, f"{field}.rgb")
        if image.shape[:2] != (k.height, k.width):
            raise _invalid(f"{field}.rgb is {image.shape[1]}x{image.shape[0]} but the intrinsics "
                           f"are {k.width}x{k.height}")
    elif require_rgb:
        raise _invalid(f"{field}.rgb is missing")
    z = parse_depth(depth, k, f"{field}.depth") if depth is not None else None
    engine_c2w = np.array(pose.camera_to_world, dtype=np.float64).reshape(4, 4)  # checked with the camera
    engine_c2w.flags.writeable = False
    return EngineView(PosedView(camera, image, z), engine_c2w, Convention(pose.convention))
