from worldbridge.v1 import camera_pb2 as _camera_pb2
from worldbridge.v1 import handshake_pb2 as _handshake_pb2
from worldbridge.v1 import image_pb2 as _image_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RecordingHeader(_message.Message):
    __slots__ = ("hello", "dataset_name", "description")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    DATASET_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    hello: _handshake_pb2.ClientHello
    dataset_name: str
    description: str
    def __init__(self, hello: _Optional[_Union[_handshake_pb2.ClientHello, _Mapping]] = ..., dataset_name: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class CapturedFrame(_message.Message):
    __slots__ = ("sequence", "client_timestamp_us", "pose", "intrinsics", "rgb", "depth")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CLIENT_TIMESTAMP_US_FIELD_NUMBER: _ClassVar[int]
    POSE_FIELD_NUMBER: _ClassVar[int]
    INTRINSICS_FIELD_NUMBER: _ClassVar[int]
    RGB_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    client_timestamp_us: int
    pose: _camera_pb2.CameraPose
    intrinsics: _camera_pb2.Intrinsics
    rgb: _image_pb2.Texture
    depth: _image_pb2.DepthImage
    def __init__(self, sequence: _Optional[int] = ..., client_timestamp_us: _Optional[int] = ..., pose: _Optional[_Union[_camera_pb2.CameraPose, _Mapping]] = ..., intrinsics: _Optional[_Union[_camera_pb2.Intrinsics, _Mapping]] = ..., rgb: _Optional[_Union[_image_pb2.Texture, _Mapping]] = ..., depth: _Optional[_Union[_image_pb2.DepthImage, _Mapping]] = ...) -> None: ...

class RecordRequest(_message.Message):
    __slots__ = ("header", "frame")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    header: RecordingHeader
    frame: CapturedFrame
    def __init__(self, header: _Optional[_Union[RecordingHeader, _Mapping]] = ..., frame: _Optional[_Union[CapturedFrame, _Mapping]] = ...) -> None: ...

class RejectedFrame(_message.Message):
    __slots__ = ("sequence", "code", "message")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    code: int
    message: str
    def __init__(self, sequence: _Optional[int] = ..., code: _Optional[int] = ..., message: _Optional[str] = ...) -> None: ...

class RecordingSummary(_message.Message):
    __slots__ = ("dataset_name", "path", "frames_written", "rejected", "duration_s")
    DATASET_NAME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    FRAMES_WRITTEN_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    DURATION_S_FIELD_NUMBER: _ClassVar[int]
    dataset_name: str
    path: str
    frames_written: int
    rejected: _containers.RepeatedCompositeFieldContainer[RejectedFrame]
    duration_s: float
    def __init__(self, dataset_name: _Optional[str] = ..., path: _Optional[str] = ..., frames_written: _Optional[int] = ..., rejected: _Optional[_Iterable[_Union[RejectedFrame, _Mapping]]] = ..., duration_s: _Optional[float] = ...) -> None: ...
