"""Cameras, pose conventions, intrinsics and depth encodings (OpenCV, metres, inside)."""

from worldbridge.geometry.conventions import (
    RIGID_TOLERANCE,
    Convention,
    PoseError,
    from_opencv_c2w,
    invert_rigid,
    opencv_to_opengl_c2w,
    opengl_to_opencv_c2w,
    to_opencv_c2w,
    validate_rigid,
)
from worldbridge.geometry.depth import (
    DepthEncoding,
    DepthError,
    DepthKind,
    decode_depth,
    encode_depth,
    ray_to_planar,
)
from worldbridge.geometry.intrinsics import Intrinsics, IntrinsicsError

__all__ = [
    "RIGID_TOLERANCE", "Convention", "PoseError", "from_opencv_c2w", "invert_rigid",
    "opencv_to_opengl_c2w", "opengl_to_opencv_c2w", "to_opencv_c2w", "validate_rigid",
    "DepthEncoding", "DepthError", "DepthKind", "decode_depth", "encode_depth", "ray_to_planar",
    "Intrinsics", "IntrinsicsError",
]
