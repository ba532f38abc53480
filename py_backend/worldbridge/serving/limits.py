"""Explicit size limits of a server, advertised in ``ServerInfo.limits``."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ServerLimits"]


@dataclass(frozen=True)
class ServerLimits:
    """Limits enforced at the gateway.

    Attributes:
        max_message_bytes: largest gRPC message accepted or sent (default 64 MiB; gRPC's own
            default is 4 MiB). Larger requests are refused by gRPC with RESOURCE_EXHAUSTED.
        max_texture_side: largest width or height, pixels, of any image or output texture.
        max_reference_views: reference views per OpenSession.
        max_sessions: open sessions per server.
        session_idle_timeout_s: a session with no open stream and no frame for this long is
            closed (an engine that crashed never calls CloseSession).
    """

    max_message_bytes: int = 64 * 1024 * 1024
    max_texture_side: int = 4096
    max_reference_views: int = 64
    max_sessions: int = 64
    session_idle_timeout_s: float = 1800.0
