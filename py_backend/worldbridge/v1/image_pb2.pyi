from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TextureFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TEXTURE_FORMAT_UNSPECIFIED: _ClassVar[TextureFormat]
    TEXTURE_FORMAT_RGBA8: _ClassVar[TextureFormat]
    TEXTURE_FORMAT_BGRA8: _ClassVar[TextureFormat]
    TEXTURE_FORMAT_RGB8: _ClassVar[TextureFormat]
    TEXTURE_FORMAT_JPEG: _ClassVar[TextureFormat]
    TEXTURE_FORMAT_PNG: _ClassVar[TextureFormat]

class RowOrder(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROW_ORDER_UNSPECIFIED: _ClassVar[RowOrder]
    ROW_ORDER_TOP_DOWN: _ClassVar[RowOrder]
    ROW_ORDER_BOTTOM_UP: _ClassVar[RowOrder]

class DepthEncoding(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEPTH_ENCODING_UNSPECIFIED: _ClassVar[DepthEncoding]
    DEPTH_ENCODING_FLOAT32_M: _ClassVar[DepthEncoding]
    DEPTH_ENCODING_FLOAT16_M: _ClassVar[DepthEncoding]
    DEPTH_ENCODING_UINT16_MM: _ClassVar[DepthEncoding]

class DepthKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEPTH_KIND_UNSPECIFIED: _ClassVar[DepthKind]
    DEPTH_KIND_PLANAR_Z: _ClassVar[DepthKind]
    DEPTH_KIND_RAY_DISTANCE: _ClassVar[DepthKind]
TEXTURE_FORMAT_UNSPECIFIED: TextureFormat
TEXTURE_FORMAT_RGBA8: TextureFormat
TEXTURE_FORMAT_BGRA8: TextureFormat
TEXTURE_FORMAT_RGB8: TextureFormat
TEXTURE_FORMAT_JPEG: TextureFormat
TEXTURE_FORMAT_PNG: TextureFormat
ROW_ORDER_UNSPECIFIED: RowOrder
ROW_ORDER_TOP_DOWN: RowOrder
ROW_ORDER_BOTTOM_UP: RowOrder
DEPTH_ENCODING_UNSPECIFIED: DepthEncoding
DEPTH_ENCODING_FLOAT32_M: DepthEncoding
DEPTH_ENCODING_FLOAT16_M: DepthEncoding
DEPTH_ENCODING_UINT16_MM: DepthEncoding
DEPTH_KIND_UNSPECIFIED: DepthKind
DEPTH_KIND_PLANAR_Z: DepthKind
DEPTH_KIND_RAY_DISTANCE: DepthKind

class Texture(_message.Message):
    __slots__ = ("width", "height", "format", "row_order", "data")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    ROW_ORDER_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    format: TextureFormat
    row_order: RowOrder
    data: bytes
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., format: _Optional[_Union[TextureFormat, str]] = ..., row_order: _Optional[_Union[RowOrder, str]] = ..., data: _Optional[bytes] = ...) -> None: ...

class TextureSpec(_message.Message):
    __slots__ = ("width", "height", "format", "row_order", "jpeg_quality")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    ROW_ORDER_FIELD_NUMBER: _ClassVar[int]
    JPEG_QUALITY_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    format: TextureFormat
    row_order: RowOrder
    jpeg_quality: int
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., format: _Optional[_Union[TextureFormat, str]] = ..., row_order: _Optional[_Union[RowOrder, str]] = ..., jpeg_quality: _Optional[int] = ...) -> None: ...

class DepthImage(_message.Message):
    __slots__ = ("width", "height", "encoding", "kind", "data")
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    ENCODING_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    width: int
    height: int
    encoding: DepthEncoding
    kind: DepthKind
    data: bytes
    def __init__(self, width: _Optional[int] = ..., height: _Optional[int] = ..., encoding: _Optional[_Union[DepthEncoding, str]] = ..., kind: _Optional[_Union[DepthKind, str]] = ..., data: _Optional[bytes] = ...) -> None: ...
