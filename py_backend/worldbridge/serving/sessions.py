"""Gateway session registry: which worker holds which session, and with what defaults."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from worldbridge.geometry import Intrinsics

__all__ = ["SessionRecord", "SessionRegistry"]


@dataclass
class SessionRecord:
    """A session as the gateway knows it.

    Attributes:
        session_id: opaque id given to the client.
        worker_id: the worker the session is pinned to.
        default_intrinsics: used when a FrameRequest carries none (output size, first
            reference view's field of view).
        last_used: ``time.monotonic()`` of the last frame or open.
        open_streams: frame streams currently attached (an idle session with one is kept).
        lost: set when its worker died; every later request gets UNAVAILABLE.
    """

    session_id: str
    worker_id: str
    default_intrinsics: Intrinsics
    generator: str
    created: float = field(default_factory=time.time)
    last_used: float = field(default_factory=time.monotonic)
    open_streams: int = 0
    frames_served: int = 0
    lost: bool = False
    lost_reason: str = ""


class SessionRegistry:
    """Open sessions by id."""

    def __init__(self) -> None:
        self._sessions: dict[str, SessionRecord] = {}

    def __len__(self) -> int:
        return len(self._sessions)

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(12)

    def add(self, record: SessionRecord) -> None:
        self._sessions[record.session_id] = record

    def get(self, session_id: str) -> SessionRecord | None:
        return self._sessions.get(session_id)

    def pop(self, session_id: str) -> SessionRecord | None:
        return self._sessions.pop(session_id, None)

    def idle(self, older_than_s: float) -> list[SessionRecord]:
        """Sessions with no open stream and no use for ``older_than_s`` seconds."""
        now = time.monotonic()
        return [r for r in self._sessions.values()
                if r.open_streams == 0 and now - r.last_used > older_than_s]

    def mark_worker_lost(self, worker_id: str, reason: str) -> list[str]:
        """Mark every session pinned to ``worker_id`` lost; return their ids."""
        lost = []
        for rec in self._sessions.values():
            if rec.worker_id == worker_id and not rec.lost:
                rec.lost = True
                rec.lost_reason = reason
                lost.append(rec.session_id)
        return lost
