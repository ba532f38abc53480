from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ProtocolVersion(_message.Message):
    __slots__ = ("major", "minor")
    MAJOR_FIELD_NUMBER: _ClassVar[int]
    MINOR_FIELD_NUMBER: _ClassVar[int]
    major: int
    minor: int
    def __init__(self, major: _Optional[int] = ..., minor: _Optional[int] = ...) -> None: ...

class ClientHello(_message.Message):
    __slots__ = ("protocol", "client_name")
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    CLIENT_NAME_FIELD_NUMBER: _ClassVar[int]
    protocol: ProtocolVersion
    client_name: str
    def __init__(self, protocol: _Optional[_Union[ProtocolVersion, _Mapping]] = ..., client_name: _Optional[str] = ...) -> None: ...

class GeneratorInfo(_message.Message):
    __slots__ = ("name", "description", "available")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    AVAILABLE_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    available: bool
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., available: _Optional[bool] = ...) -> None: ...

class Limits(_message.Message):
    __slots__ = ("max_message_bytes", "max_texture_width", "max_texture_height", "max_reference_views", "max_sessions", "max_request_pixels", "max_inflight_pixels", "worker_memory_budget_bytes")
    MAX_MESSAGE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MAX_TEXTURE_WIDTH_FIELD_NUMBER: _ClassVar[int]
    MAX_TEXTURE_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    MAX_REFERENCE_VIEWS_FIELD_NUMBER: _ClassVar[int]
    MAX_SESSIONS_FIELD_NUMBER: _ClassVar[int]
    MAX_REQUEST_PIXELS_FIELD_NUMBER: _ClassVar[int]
    MAX_INFLIGHT_PIXELS_FIELD_NUMBER: _ClassVar[int]
    WORKER_MEMORY_BUDGET_BYTES_FIELD_NUMBER: _ClassVar[int]
    max_message_bytes: int
    max_texture_width: int
    max_texture_height: int
    max_reference_views: int
    max_sessions: int
    max_request_pixels: int
    max_inflight_pixels: int
    worker_memory_budget_bytes: int
    def __init__(self, max_message_bytes: _Optional[int] = ..., max_texture_width: _Optional[int] = ..., max_texture_height: _Optional[int] = ..., max_reference_views: _Optional[int] = ..., max_sessions: _Optional[int] = ..., max_request_pixels: _Optional[int] = ..., max_inflight_pixels: _Optional[int] = ..., worker_memory_budget_bytes: _Optional[int] = ...) -> None: ...

class WorkerStatus(_message.Message):
    __slots__ = ("worker_id", "serving", "sessions", "device")
    WORKER_ID_FIELD_NUMBER: _ClassVar[int]
    SERVING_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    worker_id: str
    serving: bool
    sessions: int
    device: str
    def __init__(self, worker_id: _Optional[str] = ..., serving: _Optional[bool] = ..., sessions: _Optional[int] = ..., device: _Optional[str] = ...) -> None: ...

class GetServerInfoRequest(_message.Message):
    __slots__ = ("hello",)
    HELLO_FIELD_NUMBER: _ClassVar[int]
    hello: ClientHello
    def __init__(self, hello: _Optional[_Union[ClientHello, _Mapping]] = ...) -> None: ...

class ServerInfo(_message.Message):
    __slots__ = ("protocol", "server_version", "capabilities", "generators", "limits", "workers", "warnings", "bundles")
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    SERVER_VERSION_FIELD_NUMBER: _ClassVar[int]
    CAPABILITIES_FIELD_NUMBER: _ClassVar[int]
    GENERATORS_FIELD_NUMBER: _ClassVar[int]
    LIMITS_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    BUNDLES_FIELD_NUMBER: _ClassVar[int]
    protocol: ProtocolVersion
    server_version: str
    capabilities: _containers.RepeatedScalarFieldContainer[str]
    generators: _containers.RepeatedCompositeFieldContainer[GeneratorInfo]
    limits: Limits
    workers: _containers.RepeatedCompositeFieldContainer[WorkerStatus]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    bundles: _containers.RepeatedCompositeFieldContainer[BundleInfo]
    def __init__(self, protocol: _Optional[_Union[ProtocolVersion, _Mapping]] = ..., server_version: _Optional[str] = ..., capabilities: _Optional[_Iterable[str]] = ..., generators: _Optional[_Iterable[_Union[GeneratorInfo, _Mapping]]] = ..., limits: _Optional[_Union[Limits, _Mapping]] = ..., workers: _Optional[_Iterable[_Union[WorkerStatus, _Mapping]]] = ..., warnings: _Optional[_Iterable[str]] = ..., bundles: _Optional[_Iterable[_Union[BundleInfo, _Mapping]]] = ...) -> None: ...

class BundleInfo(_message.Message):
    __slots__ = ("name", "description", "base_model", "level_data", "created", "evaluation", "source")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    BASE_MODEL_FIELD_NUMBER: _ClassVar[int]
    LEVEL_DATA_FIELD_NUMBER: _ClassVar[int]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    EVALUATION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    name: str
    description: str
    base_model: str
    level_data: _containers.RepeatedScalarFieldContainer[str]
    created: str
    evaluation: str
    source: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ..., base_model: _Optional[str] = ..., level_data: _Optional[_Iterable[str]] = ..., created: _Optional[str] = ..., evaluation: _Optional[str] = ..., source: _Optional[str] = ...) -> None: ...
