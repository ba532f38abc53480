from worldbridge.v1 import camera_pb2 as _camera_pb2
from worldbridge.v1 import image_pb2 as _image_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class FrameRequest(_message.Message):
    __slots__ = ("session_id", "sequence", "client_timestamp_us", "pose", "intrinsics", "depth", "keyframe")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TIMESTAMP_US_FIELD_NUMBER: _ClassVar[int]
    POSE_FIELD_NUMBER: _ClassVar[int]
    INTRINSICS_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    KEYFRAME_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    sequence: int
    client_timestamp_us: int
    pose: _camera_pb2.CameraPose
    intrinsics: _camera_pb2.Intrinsics
    depth: _image_pb2.DepthImage
    keyframe: bool
    def __init__(self, session_id: _Optional[str] = ..., sequence: _Optional[int] = ..., client_timestamp_us: _Optional[int] = ..., pose: _Optional[_Union[_camera_pb2.CameraPose, _Mapping]] = ..., intrinsics: _Optional[_Union[_camera_pb2.Intrinsics, _Mapping]] = ..., depth: _Optional[_Union[_image_pb2.DepthImage, _Mapping]] = ..., keyframe: _Optional[bool] = ...) -> None: ...

class StageTimings(_message.Message):
    __slots__ = ("queue_ms", "anchor_ms", "model_ms", "encode_ms", "server_total_ms")
    QUEUE_MS_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_MS_FIELD_NUMBER: _ClassVar[int]
    MODEL_MS_FIELD_NUMBER: _ClassVar[int]
    ENCODE_MS_FIELD_NUMBER: _ClassVar[int]
    SERVER_TOTAL_MS_FIELD_NUMBER: _ClassVar[int]
    queue_ms: float
    anchor_ms: float
    model_ms: float
    encode_ms: float
    server_total_ms: float
    def __init__(self, queue_ms: _Optional[float] = ..., anchor_ms: _Optional[float] = ..., model_ms: _Optional[float] = ..., encode_ms: _Optional[float] = ..., server_total_ms: _Optional[float] = ...) -> None: ...

class FrameError(_message.Message):
    __slots__ = ("code", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class Frame(_message.Message):
    __slots__ = ("sequence", "client_timestamp_us", "texture", "timings", "skipped_sequences", "error", "anchor_coverage")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TIMESTAMP_US_FIELD_NUMBER: _ClassVar[int]
    TEXTURE_FIELD_NUMBER: _ClassVar[int]
    TIMINGS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_SEQUENCES_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_COVERAGE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    client_timestamp_us: int
    texture: _image_pb2.Texture
    timings: StageTimings
    skipped_sequences: _containers.RepeatedScalarFieldContainer[int]
    error: FrameError
    anchor_coverage: float
    def __init__(self, sequence: _Optional[int] = ..., client_timestamp_us: _Optional[int] = ..., texture: _Optional[_Union[_image_pb2.Texture, _Mapping]] = ..., timings: _Optional[_Union[StageTimings, _Mapping]] = ..., skipped_sequences: _Optional[_Iterable[int]] = ..., error: _Optional[_Union[FrameError, _Mapping]] = ..., anchor_coverage: _Optional[float] = ...) -> None: ...
