"""Building wire messages from numpy values (the Python side of an engine plugin)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from worldbridge import PROTOCOL_VERSION, __version__
from worldbridge.geometry import Convention, DepthEncoding, DepthKind, Intrinsics, encode_depth
from worldbridge.v1 import camera_pb2, handshake_pb2, image_pb2
from worldbridge.wire.texture import RowOrder, TextureFormat, encode_texture

__all__ = ["PosedImage", "ReferenceView", "CapturedView", "PoseRequest", "hello",
           "pose_message", "intrinsics_message", "depth_message", "rgb_message"]


@dataclass
class PosedImage:
    """An engine view.

    Attributes:
        rgb: ``[H, W, 3]`` uint8 RGB, top row first.
        depth: ``[H, W]`` float32 planar z in metres (0 or inf = invalid), or None.
        c2w: ``[4, 4]`` camera-to-world in the engine's ``convention`` (column-vector).
        convention: how ``c2w`` is to be read.
        intrinsics: the camera (size must match ``rgb``).
    """

    rgb: np.ndarray
    depth: np.ndarray | None
    c2w: np.ndarray
    convention: Convention
    intrinsics: Intrinsics


ReferenceView = PosedImage
"""A view that builds a session's world (must carry depth for at least one view)."""
CapturedView = PosedImage
"""A view streamed to a recording."""


@dataclass
class PoseRequest:
    """One pose of a frame stream.

    Attributes:
        c2w: ``[4, 4]`` engine camera-to-world.
        convention: how ``c2w`` is to be read.
        intrinsics: the camera; None uses the session's default.
        depth: ``[H, W]`` float32 planar z metres at this pose, or None.
        keyframe: lift the returned frame into the session's memory (needs ``depth``).
    """

    c2w: np.ndarray
    convention: Convention
    intrinsics: Intrinsics | None = None
    depth: np.ndarray | None = None
    keyframe: bool = False


def hello(client_name: str = f"worldbridge-python/{__version__}") -> handshake_pb2.ClientHello:
    """This client's protocol version and name."""
    return handshake_pb2.ClientHello(
        protocol=handshake_pb2.ProtocolVersion(major=PROTOCOL_VERSION[0], minor=PROTOCOL_VERSION[1]),
        client_name=client_name)


def pose_message(c2w: np.ndarray, convention: Convention) -> camera_pb2.CameraPose:
    """``[4, 4]`` column-vector camera-to-world -> CameraPose (row-major doubles)."""
    return camera_pb2.CameraPose(camera_to_world=np.asarray(c2w, np.float64).reshape(-1).tolist(),
                                 convention=int(convention))  # type: ignore[arg-type]


def intrinsics_message(k: Intrinsics) -> camera_pb2.Intrinsics:
    return camera_pb2.Intrinsics(fx=k.fx, fy=k.fy, cx=k.cx, cy=k.cy, width=k.width, height=k.height)


def depth_message(depth: np.ndarray, encoding: DepthEncoding = DepthEncoding.FLOAT32_M,
                  kind: DepthKind = DepthKind.PLANAR_Z) -> image_pb2.DepthImage:
    """``[H, W]`` float32 metres -> DepthImage in ``encoding``."""
    h, w = depth.shape
    return image_pb2.DepthImage(width=w, height=h, encoding=int(encoding), kind=int(kind),  # type: ignore[arg-type]
                                data=encode_depth(depth, encoding))


def rgb_message(rgb: np.ndarray, fmt: TextureFormat = TextureFormat.RGB8) -> image_pb2.Texture:
    """``[H, W, 3]`` uint8 RGB -> Texture (raw RGB8 top-down by default)."""
    h, w = rgb.shape[:2]
    return image_pb2.Texture(width=w, height=h, format=int(fmt),  # type: ignore[arg-type]
                             row_order=int(RowOrder.TOP_DOWN),  # type: ignore[arg-type]
                             data=encode_texture(np.ascontiguousarray(rgb), fmt))
