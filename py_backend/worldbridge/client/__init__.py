"""Python client for the WorldBridge service (handshake, sessions, frames, recording)."""

from worldbridge.client.bridge_client import BridgeClient, ReceivedFrame, RecordingResult, Session
from worldbridge.client.messages import (
    CapturedView,
    PosedImage,
    PoseRequest,
    ReferenceView,
    depth_message,
    hello,
    intrinsics_message,
    pose_message,
    rgb_message,
)

__all__ = ["BridgeClient", "ReceivedFrame", "RecordingResult", "Session", "CapturedView",
           "PosedImage", "PoseRequest", "ReferenceView", "depth_message", "hello",
           "intrinsics_message", "pose_message", "rgb_message"]
