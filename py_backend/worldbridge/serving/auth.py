"""Shared-token authentication: a grpc.aio interceptor checked on every call.

Clients send ``authorization: Bearer <token>`` metadata. Health checks stay open so that
load balancers and orchestrators can probe the server without the secret.
"""

from __future__ import annotations

import hmac
import os
from pathlib import Path

import grpc

from worldbridge.errors import ConfigError

__all__ = ["TokenInterceptor", "OPEN_METHOD_PREFIXES", "TOKEN_ENV", "SPAWN_KEY_ENV", "GATEWAY_PID_ENV",
           "read_token"]

TOKEN_ENV = "WORLDBRIDGE_TOKEN"
"""Environment variable holding the shared token (not visible in ``ps``, unlike ``--token``)."""

GATEWAY_PID_ENV = "WORLDBRIDGE_GATEWAY_PID"
"""Environment variable naming the gateway process of a local worker (the worker exits with it)."""

SPAWN_KEY_ENV = "WORLDBRIDGE_SPAWN_KEY"
"""Environment variable through which a gateway hands each local worker its spawn key."""


def read_token(token_file: Path | None = None, token: str | None = None) -> str | None:
    """The shared token: from ``token_file`` (surrounding whitespace stripped), else the
    explicit ``token`` (``--token``, visible to other users in ``ps``), else
    ``$WORLDBRIDGE_TOKEN``; None when none is set.

    Raises:
        ConfigError: the file cannot be read or holds no token.
    """
    if token_file is not None:
        try:
            text = Path(token_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as e:
            raise ConfigError(f"cannot read the token file {token_file}: {e}") from None
        if not text:
            raise ConfigError(f"the token file {token_file} is empty")
        return text
    if token:
        return token
    return os.environ.get(TOKEN_ENV) or None

OPEN_METHOD_PREFIXES = ("/grpc.health.v1.Health/",)


class TokenInterceptor(grpc.aio.ServerInterceptor):
    """Rejects calls without the right token with ``UNAUTHENTICATED``.

    Args:
        token: the shared secret (non-empty).

    Raises:
        ValueError: empty token.
    """

    def __init__(self, token: str):
        if not token:
            raise ValueError("token must be non-empty")
        self._expected = f"Bearer {token}".encode()

    def _authorised(self, details: grpc.HandlerCallDetails) -> bool:
        for key, value in details.invocation_metadata or ():
            if key == "authorization":
                got = value.encode() if isinstance(value, str) else value
                return hmac.compare_digest(got, self._expected)
        return False

    async def intercept_service(self, continuation, handler_call_details):
        if handler_call_details.method.startswith(OPEN_METHOD_PREFIXES) or \
                self._authorised(handler_call_details):
            return await continuation(handler_call_details)
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        message = "missing or wrong token: send metadata 'authorization: Bearer <token>'"

        async def deny(_request, context):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, message)

        kinds = {(False, False): grpc.unary_unary_rpc_method_handler,
                 (False, True): grpc.unary_stream_rpc_method_handler,
                 (True, False): grpc.stream_unary_rpc_method_handler,
                 (True, True): grpc.stream_stream_rpc_method_handler}
        make = kinds[(handler.request_streaming, handler.response_streaming)]
        return make(deny, request_deserializer=handler.request_deserializer,
                    response_serializer=handler.response_serializer)
