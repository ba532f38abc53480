"""Explicit size and memory limits of a server, advertised in ``ServerInfo.limits``."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

from worldbridge.wire.texture import TextureFormat

__all__ = ["ServerLimits", "PixelBudget", "frame_bytes_bound", "default_memory_budget"]


@dataclass(frozen=True)
class ServerLimits:
    """Limits enforced at the gateway (and, for the memory budget, by each render worker).

    Attributes:
        max_message_bytes: largest gRPC message accepted or sent (default 64 MiB; gRPC's own
            default is 4 MiB). Larger requests are refused by gRPC with RESOURCE_EXHAUSTED;
            an output whose frames could not fit is refused at OpenSession.
        max_texture_side: largest width or height, pixels, of any image or output texture.
        max_reference_views: reference views per OpenSession.
        max_sessions: open sessions per server.
        session_idle_timeout_s: a session with no open stream and no frame for this long is
            closed (an engine that crashed never calls CloseSession).
        max_request_pixels: decoded pixels (colour and depth together) one request may carry,
            checked from the declared sizes and image headers before decoding (default 64 Mi:
            four 4096x4096 views with depth fit, 16 do not).
        max_inflight_pixels: decoded pixels the gateway holds at once over all requests
            being decoded (each pixel costs up to 7 bytes: RGB + float32 depth); others wait.
        worker_memory_budget_bytes: estimated session state one local render worker holds
            before it refuses new sessions with RESOURCE_EXHAUSTED; None: half of the machine's
            memory shared by the local workers (:func:`default_memory_budget`); 0: no budget.
    """

    max_message_bytes: int = 64 * 1024 * 1024
    max_texture_side: int = 4096
    max_reference_views: int = 64
    max_sessions: int = 64
    session_idle_timeout_s: float = 1800.0
    max_request_pixels: int = 64 * 1024 * 1024
    max_inflight_pixels: int = 128 * 1024 * 1024
    worker_memory_budget_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.max_inflight_pixels < self.max_request_pixels:
            raise ValueError(f"max_inflight_pixels ({self.max_inflight_pixels}) must be at least "
                             f"max_request_pixels ({self.max_request_pixels})")


def default_memory_budget(workers: int = 1) -> int:
    """Half of this machine's physical memory shared by ``workers`` render workers, bytes."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return total // 2 // max(1, workers)


def frame_bytes_bound(width: int, height: int, fmt: int) -> int:
    """Largest encoded size, bytes, of one ``width`` x ``height`` output frame in texture
    format ``fmt`` (image.proto values): 4 bytes per pixel for RGBA8/BGRA8, raw RGBA plus
    PNG's worst-case framing for PNG, 3 bytes per pixel plus headers for JPEG."""
    pixels = width * height
    if fmt == TextureFormat.JPEG:
        return pixels * 3 + 64 * 1024
    if fmt == TextureFormat.PNG:
        return pixels * 4 + height + (pixels * 4) // 16_000 * 12 + 64 * 1024
    return pixels * 4


class PixelBudget:
    """An asyncio budget of decoded pixels held at once (one per event loop).

    ``async with budget.hold(n):`` waits until ``n`` more pixels fit under ``capacity``
    (first come, first served), then holds them until the block ends.

    Raises:
        ValueError: ``n`` larger than the whole capacity (it could never be granted).
    """

    def __init__(self, capacity: int):
        self.capacity = capacity
        self.in_use = 0
        self.peak = 0
        self._changed = asyncio.Condition()

    def hold(self, pixels: int) -> _Hold:
        if pixels > self.capacity:
            raise ValueError(f"{pixels} pixels exceed the whole decode budget of {self.capacity}")
        return _Hold(self, pixels)


class _Hold:
    def __init__(self, budget: PixelBudget, pixels: int):
        self.budget = budget
        self.pixels = pixels

    async def __aenter__(self) -> None:
        b = self.budget
        async with b._changed:
            await b._changed.wait_for(lambda: b.in_use + self.pixels <= b.capacity)
            b.in_use += self.pixels
            b.peak = max(b.peak, b.in_use)

    async def __aexit__(self, *exc) -> None:
        b = self.budget
        async with b._changed:
            b.in_use -= self.pixels
            b._changed.notify_all()
