"""Newest-pose-wins pacing of one frame stream, independent of gRPC.

The contract of ``StreamFrames`` (frames.proto): at most one request of a stream is being
rendered at a time; a request that arrives while an earlier one still waits replaces it,
and the sequence numbers of the replaced requests are reported with the next frame (its
``skipped_sequences``). An engine sending poses faster than frames are made therefore always
gets the newest pose next, and never a backlog.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from worldbridge.errors import WorldBridgeError

__all__ = ["NewestWinsPacer", "Paced", "PacerClosedError"]

T = TypeVar("T")


class PacerClosedError(WorldBridgeError, RuntimeError):
    """:meth:`NewestWinsPacer.submit` after :meth:`NewestWinsPacer.close`."""


@dataclass
class Paced(Generic[T]):
    """An item handed out by the pacer, with the sequence numbers it replaced since the last
    hand-out (oldest first)."""

    item: T
    sequence: int
    skipped: list[int] = field(default_factory=list)


class NewestWinsPacer(Generic[T]):
    """One stream's pacer: producers :meth:`submit`, the single consumer awaits :meth:`next`.

    Not thread-safe: use it from one event loop.
    """

    def __init__(self) -> None:
        self._pending: Paced[T] | None = None
        self._skipped: list[int] = []
        self._closed = False
        self._wake = asyncio.Event()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def waiting(self) -> bool:
        """Whether an item waits to be handed out."""
        return self._pending is not None

    def submit(self, sequence: int, item: T) -> None:
        """Offer ``item`` (request ``sequence``); an item still waiting is replaced and its
        sequence number reported as skipped.

        Raises:
            PacerClosedError: after :meth:`close`.
        """
        if self._closed:
            raise PacerClosedError("the stream's pacer is closed")
        if self._pending is not None:
            self._skipped.append(self._pending.sequence)
        self._pending = Paced(item, sequence)
        self._wake.set()

    def close(self) -> None:
        """No more items: :meth:`next` hands out the waiting one, if any, then returns None."""
        self._closed = True
        self._wake.set()

    async def next(self) -> Paced[T] | None:
        """The newest waiting item (waiting for one), with what it replaced; None once the
        pacer is closed and empty."""
        while True:
            if self._pending is not None:
                paced, self._pending = self._pending, None
                paced.skipped, self._skipped = self._skipped, []
                return paced
            if self._closed:
                return None
            self._wake.clear()
            await self._wake.wait()
