from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Convention(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONVENTION_UNSPECIFIED: _ClassVar[Convention]
    CONVENTION_UNREAL: _ClassVar[Convention]
    CONVENTION_UNITY: _ClassVar[Convention]
    CONVENTION_OPENGL: _ClassVar[Convention]
    CONVENTION_OPENCV: _ClassVar[Convention]
CONVENTION_UNSPECIFIED: Convention
CONVENTION_UNREAL: Convention
CONVENTION_UNITY: Convention
CONVENTION_OPENGL: Convention
CONVENTION_OPENCV: Convention

class CameraPose(_message.Message):
    __slots__ = ("camera_to_world", "convention")
    CAMERA_TO_WORLD_FIELD_NUMBER: _ClassVar[int]
    CONVENTION_FIELD_NUMBER: _ClassVar[int]
    camera_to_world: _containers.RepeatedScalarFieldContainer[float]
    convention: Convention
    def __init__(self, camera_to_world: _Optional[_Iterable[float]] = ..., convention: _Optional[_Union[Convention, str]] = ...) -> None: ...

class Intrinsics(_message.Message):
    __slots__ = ("fx", "fy", "cx", "cy", "width", "height")
    FX_FIELD_NUMBER: _ClassVar[int]
    FY_FIELD_NUMBER: _ClassVar[int]
    CX_FIELD_NUMBER: _ClassVar[int]
    CY_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    def __init__(self, fx: _Optional[float] = ..., fy: _Optional[float] = ..., cx: _Optional[float] = ..., cy: _Optional[float] = ..., width: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...
