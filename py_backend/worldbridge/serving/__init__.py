"""Serving: the gRPC gateway, its render workers, and the channel between them.

Layout (the package boundary is the process boundary):

* :mod:`worldbridge.serving.gateway`: the grpc.aio gateway process (servicer, request
  parsing, session table, newest-pose-wins pacing, worker pool).
* :mod:`worldbridge.serving.worker`: a render worker process (scene memory, anchor render,
  frame generator), run as ``python -m worldbridge.serving.worker``.
* :mod:`~worldbridge.serving.protocol`, :mod:`~worldbridge.serving.channel`,
  :mod:`~worldbridge.serving.auth`, :mod:`~worldbridge.serving.limits`: what both sides of
  the gateway-worker channel share.

What the engine client shares with the server (the texture codec) is in :mod:`worldbridge.wire`,
which a client imports without loading this package.

The gateway names are imported lazily so that a render worker, which only needs the protocol
and its session state, does not load the gRPC server stack.
"""

from worldbridge.serving.limits import ServerLimits

__all__ = ["ServerLimits", "Gateway", "InsecureBindError", "ServerConfig", "serve"]

_LAZY = {"Gateway", "InsecureBindError", "ServerConfig", "serve"}


def __getattr__(name: str):
    if name in _LAZY:
        from worldbridge.serving.gateway import server

        return getattr(server, name)
    raise AttributeError(f"module 'worldbridge.serving' has no attribute {name!r}")
