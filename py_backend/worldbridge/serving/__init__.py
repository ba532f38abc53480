"""The gateway (grpc.aio), render workers (ZeroMQ) and the typed worker protocol.

The gateway names are imported lazily so that a render worker, which only needs the protocol
and its session state, does not load the gRPC server stack.
"""

from worldbridge.serving.limits import ServerLimits
from worldbridge.serving.texture import (
    RowOrder,
    TextureError,
    TextureFormat,
    decode_texture,
    encode_texture,
)

__all__ = ["ServerLimits", "Gateway", "InsecureBindError", "ServerConfig", "serve", "RowOrder",
           "TextureError", "TextureFormat", "decode_texture", "encode_texture"]

_LAZY = {"Gateway", "InsecureBindError", "ServerConfig", "serve"}


def __getattr__(name: str):
    if name in _LAZY:
        from worldbridge.serving import server

        return getattr(server, name)
    raise AttributeError(f"module 'worldbridge.serving' has no attribute {name!r}")
