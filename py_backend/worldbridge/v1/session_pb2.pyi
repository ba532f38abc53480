from worldbridge.v1 import camera_pb2 as _camera_pb2
from worldbridge.v1 import handshake_pb2 as _handshake_pb2
from worldbridge.v1 import image_pb2 as _image_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class AnchorLock(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANCHOR_LOCK_UNSPECIFIED: _ClassVar[AnchorLock]
    ANCHOR_LOCK_ON: _ClassVar[AnchorLock]
    ANCHOR_LOCK_OFF: _ClassVar[AnchorLock]
ANCHOR_LOCK_UNSPECIFIED: AnchorLock
ANCHOR_LOCK_ON: AnchorLock
ANCHOR_LOCK_OFF: AnchorLock

class ReferenceView(_message.Message):
    __slots__ = ("rgb", "pose", "intrinsics", "depth")
    RGB_FIELD_NUMBER: _ClassVar[int]
    POSE_FIELD_NUMBER: _ClassVar[int]
    INTRINSICS_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    rgb: _image_pb2.Texture
    pose: _camera_pb2.CameraPose
    intrinsics: _camera_pb2.Intrinsics
    depth: _image_pb2.DepthImage
    def __init__(self, rgb: _Optional[_Union[_image_pb2.Texture, _Mapping]] = ..., pose: _Optional[_Union[_camera_pb2.CameraPose, _Mapping]] = ..., intrinsics: _Optional[_Union[_camera_pb2.Intrinsics, _Mapping]] = ..., depth: _Optional[_Union[_image_pb2.DepthImage, _Mapping]] = ...) -> None: ...

class OpenSessionRequest(_message.Message):
    __slots__ = ("hello", "reference_views", "generator", "output", "seed", "generator_options")
    HELLO_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_VIEWS_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_OPTIONS_FIELD_NUMBER: _ClassVar[int]
    hello: _handshake_pb2.ClientHello
    reference_views: _containers.RepeatedCompositeFieldContainer[ReferenceView]
    generator: str
    output: _image_pb2.TextureSpec
    seed: int
    generator_options: GeneratorOptions
    def __init__(self, hello: _Optional[_Union[_handshake_pb2.ClientHello, _Mapping]] = ..., reference_views: _Optional[_Iterable[_Union[ReferenceView, _Mapping]]] = ..., generator: _Optional[str] = ..., output: _Optional[_Union[_image_pb2.TextureSpec, _Mapping]] = ..., seed: _Optional[int] = ..., generator_options: _Optional[_Union[GeneratorOptions, _Mapping]] = ...) -> None: ...

class GeneratorOptions(_message.Message):
    __slots__ = ("anchor_lock", "bundle")
    ANCHOR_LOCK_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    anchor_lock: AnchorLock
    bundle: str
    def __init__(self, anchor_lock: _Optional[_Union[AnchorLock, str]] = ..., bundle: _Optional[str] = ...) -> None: ...

class OpenSessionResponse(_message.Message):
    __slots__ = ("session_id", "worker_id", "anchor_points", "warnings")
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    ANCHOR_POINTS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    worker_id: str
    anchor_points: int
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, session_id: _Optional[str] = ..., worker_id: _Optional[str] = ..., anchor_points: _Optional[int] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class CloseSessionRequest(_message.Message):
    __slots__ = ("session_id",)
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    session_id: str
    def __init__(self, session_id: _Optional[str] = ...) -> None: ...

class CloseSessionResponse(_message.Message):
    __slots__ = ("frames_served",)
    FRAMES_SERVED_FIELD_NUMBER: _ClassVar[int]
    frames_served: int
    def __init__(self, frames_served: _Optional[int] = ...) -> None: ...
