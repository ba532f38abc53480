"""Gateway session registry: which worker holds which session, and with what defaults."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from worldbridge.geometry import Intrinsics

__all__ = ["SessionRecord", "SessionRegistry", "MAX_LOST_KEPT"]

MAX_LOST_KEPT = 4096
"""Lost sessions remembered so that their clients get UNAVAILABLE with the reason."""


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
        lost_event: set at the same moment, so that idle streams learn it at once.
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
    lost_event: asyncio.Event = field(default_factory=asyncio.Event, repr=False)


class SessionRegistry:
    """Open sessions by id, with exact accounting against the session limit.

    A slot is reserved (:meth:`reserve`) before a worker is asked to open a session, so
    concurrent OpenSession calls can never exceed the limit. A session lost with its worker
    leaves the count at once but stays answerable (UNAVAILABLE with the reason) as a
    tombstone until :meth:`pop` or :meth:`expire_lost`; at most :data:`MAX_LOST_KEPT` are kept.
    """

    def __init__(self) -> None:
        self._sessions: dict[str, SessionRecord] = {}
        self._lost: OrderedDict[str, SessionRecord] = OrderedDict()
        self._reserved = 0

    def __len__(self) -> int:
        """Live sessions (lost ones and reservations not counted)."""
        return len(self._sessions)

    @property
    def reserved(self) -> int:
        return self._reserved

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(12)

    def reserve(self, limit: int) -> bool:
        """Take a slot for a session being opened; False when live sessions plus pending
        reservations already reach ``limit``. Pair every True with :meth:`release`."""
        if len(self._sessions) + self._reserved >= limit:
            return False
        self._reserved += 1
        return True

    def release(self) -> None:
        """Give back a reservation (the session was added, or opening it failed)."""
        if self._reserved <= 0:
            raise RuntimeError("release() without a matching reserve()")
        self._reserved -= 1

    def add(self, record: SessionRecord) -> None:
        self._sessions[record.session_id] = record

    def get(self, session_id: str) -> SessionRecord | None:
        """A live or lost session."""
        return self._sessions.get(session_id) or self._lost.get(session_id)

    def pop(self, session_id: str) -> SessionRecord | None:
        return self._sessions.pop(session_id, None) or self._lost.pop(session_id, None)

    def idle(self, older_than_s: float) -> list[SessionRecord]:
        """Live sessions with no open stream and no use for ``older_than_s`` seconds."""
        now = time.monotonic()
        return [r for r in self._sessions.values()
                if r.open_streams == 0 and now - r.last_used > older_than_s]

    def expire_lost(self, older_than_s: float) -> int:
        """Forget lost sessions unused for ``older_than_s`` seconds; returns how many."""
        now = time.monotonic()
        old = [sid for sid, r in self._lost.items() if r.open_streams == 0 and now - r.last_used > older_than_s]
        for sid in old:
            del self._lost[sid]
        return len(old)

    def mark_lost(self, session_id: str, reason: str) -> bool:
        """Move a live session to the lost ones (its slot is free at once)."""
        rec = self._sessions.pop(session_id, None)
        if rec is None:
            return False
        rec.lost = True
        rec.lost_reason = reason
        rec.lost_event.set()
        self._lost[session_id] = rec
        while len(self._lost) > MAX_LOST_KEPT:
            self._lost.popitem(last=False)
        return True

    def mark_worker_lost(self, worker_id: str, reason: str) -> list[str]:
        """Mark every session pinned to ``worker_id`` lost; return their ids."""
        lost = [sid for sid, rec in self._sessions.items() if rec.worker_id == worker_id]
        for sid in lost:
            self.mark_lost(sid, reason)
        return lost
