"""Registering the WorldBridge servicer so that an undecodable request is answered, not lost.

grpcio's generated registration deserializes with ``Message.FromString``; when that raises
inside a client stream, grpc.aio ends the stream's request iterator quietly, so the call
finishes with status OK and every later request is dropped without a word. Here each
method's handler is built from the service descriptor (the protos stay the one source of
truth) with a deserializer that never raises: it returns :class:`Undecodable` instead, and
the handler answers INVALID_ARGUMENT naming the message type and the parse error. Streamed
requests go through :func:`checked`, which raises :class:`UndecodableRequest` at the bad
message so the servicer can end the stream with that status after finishing what it had
(a recording is finalised first).
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from typing import Any, NoReturn

import grpc
from google.protobuf import message_factory

from worldbridge.errors import InvalidInput
from worldbridge.serving.protocol import clip
from worldbridge.v1 import service_pb2

__all__ = ["Undecodable", "UndecodableRequest", "abort", "checked", "add_servicer"]

SERVICE = service_pb2.DESCRIPTOR.services_by_name["WorldBridge"]


class Undecodable:
    """Stands in for a request message whose bytes did not parse."""

    __slots__ = ("type_name", "error", "size")

    def __init__(self, type_name: str, error: str, size: int):
        self.type_name = type_name
        self.error = error
        self.size = size

    def describe(self) -> str:
        return f"undecodable {self.type_name} ({self.size} bytes): {clip(self.error, 200)}"


class UndecodableRequest(InvalidInput):
    """Raised by :func:`checked` at an undecodable message in a client stream."""

    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, index: int, bad: Undecodable):
        self.message = f"request {index} of the stream is an {bad.describe()}"
        super().__init__(self.message)


async def checked(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    """Yield the decoded requests of a client stream; raise :class:`UndecodableRequest` at the
    first one that did not decode."""
    index = 0
    async for request in requests:
        if isinstance(request, Undecodable):
            raise UndecodableRequest(index, request)
        index += 1
        yield request


def _deserializer(cls: Any):
    name = cls.DESCRIPTOR.full_name

    def parse(data: bytes) -> Any:
        try:
            return cls.FromString(data)
        except Exception as e:  # DecodeError and friends: whatever protobuf raises
            return Undecodable(name, f"{type(e).__name__}: {e}", len(data))

    return parse


def _unary(method):
    @functools.wraps(method)
    async def handler(request, context):
        if isinstance(request, Undecodable):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, request.describe())
        return await method(request, context)

    return handler


async def abort(context: grpc.aio.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    """End the call with ``code`` and ``message`` (``context.abort``, which raises), typed as
    never returning.

    Raises:
        grpc.aio.AbortError: always, through ``context.abort``.
    """
    await context.abort(code, message)
    raise RuntimeError("ServicerContext.abort returned")  # grpc raises inside abort


def add_servicer(servicer: Any, server: grpc.aio.Server) -> None:
    """Register ``servicer`` for every method of ``worldbridge.v1.WorldBridge`` on ``server``.

    Client-streaming methods receive their requests wrapped in :func:`checked`.

    Raises:
        AttributeError: the servicer lacks a method of the service.
    """
    kinds = {(False, False): grpc.unary_unary_rpc_method_handler,
             (False, True): grpc.unary_stream_rpc_method_handler,
             (True, False): grpc.stream_unary_rpc_method_handler,
             (True, True): grpc.stream_stream_rpc_method_handler}
    handlers = {}
    for method in SERVICE.methods:
        request_cls = message_factory.GetMessageClass(method.input_type)
        response_cls = message_factory.GetMessageClass(method.output_type)
        behaviour = getattr(servicer, method.name)
        if method.client_streaming:
            behaviour = _streaming(behaviour, method.server_streaming)
        elif not method.server_streaming:
            behaviour = _unary(behaviour)
        handlers[method.name] = kinds[(method.client_streaming, method.server_streaming)](
            behaviour, request_deserializer=_deserializer(request_cls),
            response_serializer=response_cls.SerializeToString)
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE.full_name, handlers),))
    server.add_registered_method_handlers(SERVICE.full_name, handlers)


def _streaming(method, server_streaming: bool):
    if server_streaming:
        @functools.wraps(method)
        async def bidi(request_iterator, context):
            async for response in method(checked(request_iterator), context):
                yield response

        return bidi

    @functools.wraps(method)
    async def client_stream(request_iterator, context):
        return await method(checked(request_iterator), context)

    return client_stream
