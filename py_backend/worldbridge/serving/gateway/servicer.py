"""The ``worldbridge.v1.WorldBridge`` gRPC servicer (grpc.aio, gateway process).

It validates and converts every request (:mod:`worldbridge.serving.gateway.requests`), pins sessions to
render workers (:mod:`worldbridge.serving.gateway.worker_pool`), applies newest-pose-wins pacing
on frame streams and writes recordings to disk. It never runs PyTorch itself.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import msgspec

from worldbridge import PROTOCOL_VERSION, __version__
from worldbridge.errors import StatusError
from worldbridge.generators import DEFAULT_GENERATOR, GENERATORS
from worldbridge.geometry import Intrinsics, IntrinsicsError
from worldbridge.recording import (
    DatasetExistsError,
    DatasetNameError,
    DatasetWriter,
    RecordingError,
)
from worldbridge.serving import protocol as proto
from worldbridge.serving.gateway.bundles import BundleNameError, BundleRegistry, UnknownBundleError
from worldbridge.serving.gateway.handlers import UndecodableRequest, abort
from worldbridge.serving.gateway.pacing import NewestWinsPacer
from worldbridge.serving.gateway.requests import (
    WireError,
    check_hello,
    parse_camera,
    parse_depth,
    parse_intrinsics,
    parse_view,
)
from worldbridge.serving.gateway.sessions import SessionRecord, SessionRegistry
from worldbridge.serving.gateway.worker_pool import WorkerError, WorkerPool, WorkerUnavailable
from worldbridge.serving.limits import PixelBudget, ServerLimits, frame_bytes_bound
from worldbridge.v1 import (
    frames_pb2,
    handshake_pb2,
    image_pb2,
    recording_pb2,
    service_pb2_grpc,
    session_pb2,
)
from worldbridge.wire.texture import RowOrder, TextureFormat

__all__ = ["WorldBridgeServicer", "CAPABILITIES"]

log = logging.getLogger("worldbridge.gateway")

CAPABILITIES = ("depth.float16", "depth.uint16_mm", "depth.ray_distance", "keyframes",
                "recording", "texture.rgba8", "texture.bgra8", "texture.jpeg", "texture.png",
                "texture.bottom_up", "pacing.newest_wins", "generator.anchor_lock",
                "generator.bundles")

FRAME_OVERHEAD_BYTES = 4096
"""Room for a Frame message's fields other than the texture bytes."""

_ANCHOR_LOCK = {session_pb2.ANCHOR_LOCK_UNSPECIFIED: None, session_pb2.ANCHOR_LOCK_ON: True,
                session_pb2.ANCHOR_LOCK_OFF: False}
"""OpenSession's AnchorLock -> the worker's anchor_lock (None: the worker's default)."""


class _Abort(StatusError):
    """Ends a stream with a status (session lost, worker gone)."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(code.name, message)
        self.code = code


def _frame_error(req: frames_pb2.FrameRequest, code: grpc.StatusCode, message: str) -> frames_pb2.Frame:
    return frames_pb2.Frame(sequence=req.sequence, client_timestamp_us=req.client_timestamp_us,
                            error=frames_pb2.FrameError(code=code.value[0], message=message))


class WorldBridgeServicer(service_pb2_grpc.WorldBridgeServicer):
    """Serves the WorldBridge service.

    Args:
        pool: the render workers (started).
        data_dir: root folder for recorded datasets.
        limits: explicit size limits.
        bundles: the frame-model bundles sessions may name (default: none).
    """

    def __init__(self, pool: WorkerPool, data_dir: Path, limits: ServerLimits,
                 bundles: BundleRegistry | None = None):
        self.pool = pool
        self.data_dir = Path(data_dir)
        self.limits = limits
        self.bundles = bundles or BundleRegistry()
        self.sessions = SessionRegistry()
        self.decode_budget = PixelBudget(limits.max_inflight_pixels)
        self._background: set[asyncio.Task] = set()

    async def worker_down(self, worker_id: str) -> None:
        """Pool callback: fail the sessions pinned to a dead worker."""
        lost = self.sessions.mark_worker_lost(worker_id, f"render worker {worker_id} died")
        if lost:
            log.warning("%d session(s) lost with %s", len(lost), worker_id)

    async def expire_idle_sessions(self) -> None:
        """Close sessions idle for longer than ``limits.session_idle_timeout_s`` (runs forever)."""
        period_s = min(10.0, max(0.05, self.limits.session_idle_timeout_s / 4))
        while True:
            await asyncio.sleep(period_s)
            for rec in self.sessions.idle(self.limits.session_idle_timeout_s):
                log.info("closing session %s: idle for %.0f s", rec.session_id,
                         self.limits.session_idle_timeout_s)
                await self._close(rec.session_id)
            self.sessions.expire_lost(self.limits.session_idle_timeout_s)

    def _close_on_worker_later(self, worker_id: str, session_id: str) -> None:
        async def close() -> None:
            try:
                await self.pool.request(worker_id, proto.CloseSession(id=0, session=session_id), timeout_s=30)
            except (WorkerUnavailable, WorkerError, asyncio.TimeoutError) as e:
                # a worker that is gone took the session with it
                log.info("could not close abandoned session %s on %s: %s", session_id, worker_id, e)

        task = asyncio.get_running_loop().create_task(close())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _close(self, session_id: str) -> SessionRecord | None:
        rec = self.sessions.pop(session_id)
        if rec is None:
            return None
        w = self.pool.workers.get(rec.worker_id)
        if w is not None:
            w.sessions.discard(rec.session_id)
        if not rec.lost:
            try:
                await self.pool.request(rec.worker_id, proto.CloseSession(id=0, session=rec.session_id),
                                        timeout_s=10)
            except (WorkerUnavailable, WorkerError, asyncio.TimeoutError):
                pass  # the session is gone with its worker either way
        return rec

    # ------------------------------------------------------------------ unary

    def server_info(self, warnings: list[str] | None = None) -> handshake_pb2.ServerInfo:
        lim = self.limits
        return handshake_pb2.ServerInfo(
            protocol=handshake_pb2.ProtocolVersion(major=PROTOCOL_VERSION[0], minor=PROTOCOL_VERSION[1]),
            server_version=__version__,
            capabilities=list(CAPABILITIES),
            generators=[handshake_pb2.GeneratorInfo(
                name=name, description=spec.description,
                available=any(name in w.generators for w in self.pool.workers.values() if w.serving))
                for name, spec in sorted(GENERATORS.items())],
            limits=handshake_pb2.Limits(
                max_message_bytes=lim.max_message_bytes, max_texture_width=lim.max_texture_side,
                max_texture_height=lim.max_texture_side,
                max_reference_views=lim.max_reference_views, max_sessions=lim.max_sessions,
                max_request_pixels=lim.max_request_pixels, max_inflight_pixels=lim.max_inflight_pixels,
                worker_memory_budget_bytes=lim.worker_memory_budget_bytes or 0),
            workers=[handshake_pb2.WorkerStatus(worker_id=w.worker_id, serving=w.serving,
                                                sessions=len(w.sessions), device=w.device)
                     for w in self.pool.workers.values()],
            warnings=warnings or [],
            bundles=self.bundles.info())

    async def GetServerInfo(  # noqa: N802 (the service's method names)
            self, request: handshake_pb2.GetServerInfoRequest,
            context: grpc.aio.ServicerContext) -> handshake_pb2.ServerInfo:
        """The server's version, limits, generators and workers.

        Ends the call with FAILED_PRECONDITION for another protocol major version (a minor
        difference is a warning in the answer).
        """
        try:
            warnings = check_hello(request.hello)
        except WireError as e:
            await abort(context, e.code, e.message)
        return self.server_info(warnings)

    async def OpenSession(  # noqa: N802
            self, request: session_pb2.OpenSessionRequest,
            context: grpc.aio.ServicerContext) -> session_pb2.OpenSessionResponse:
        """Build a session's scene memory from its reference views on the least loaded worker.

        Ends the call with INVALID_ARGUMENT (a bad view, output or generator, naming it),
        FAILED_PRECONDITION (protocol major version; a generator without weights),
        RESOURCE_EXHAUSTED (session limit, pixel budget, a worker's memory budget) or
        UNAVAILABLE (no worker).
        """
        try:
            warnings = check_hello(request.hello)
            pixels = self._request_pixels(
                [(v.rgb, v.depth if v.HasField("depth") else None) for v in request.reference_views],
                "the reference views")
        except WireError as e:
            await abort(context, e.code, e.message)
        if not self.sessions.reserve(self.limits.max_sessions):
            await abort(context, grpc.StatusCode.RESOURCE_EXHAUSTED,
                                f"server has {len(self.sessions)} open sessions and "
                                f"{self.sessions.reserved} opening, the limit is "
                                f"{self.limits.max_sessions}; close one first")
        try:
            async with self.decode_budget.hold(pixels):
                try:
                    msg, default_k = await asyncio.to_thread(self._open_message, request)
                except WireError as e:
                    await abort(context, e.code, e.message)
                worker, sid, reply = await self._open_on_worker(msg, default_k)
        except WorkerUnavailable as e:
            await abort(context, grpc.StatusCode.UNAVAILABLE, str(e))
        except WorkerError as e:
            await abort(context, getattr(grpc.StatusCode, e.code, grpc.StatusCode.INTERNAL), e.message)
        finally:
            self.sessions.release()
        log.info("session %s on %s (%d anchor points)", sid, worker.worker_id, reply.anchor_points)
        return session_pb2.OpenSessionResponse(session_id=sid, worker_id=worker.worker_id,
                                               anchor_points=reply.anchor_points,
                                               warnings=warnings)

    def _request_pixels(self, images: list, what: str) -> int:
        """Decoded pixels of ``images`` (``(Texture, DepthImage | None)`` pairs, from their
        declared sizes, before anything is decoded).

        Raises:
            WireError: RESOURCE_EXHAUSTED over ``limits.max_request_pixels``.
        """
        pixels = 0
        for rgb, depth in images:
            if rgb is not None:
                pixels += rgb.width * rgb.height
            if depth is not None:
                pixels += depth.width * depth.height
        if pixels > self.limits.max_request_pixels:
            raise WireError(grpc.StatusCode.RESOURCE_EXHAUSTED,
                            f"{what} carry {pixels:,} pixels, over the limit of "
                            f"{self.limits.max_request_pixels:,} per request; send fewer or smaller images")
        return pixels

    async def _open_on_worker(self, msg: proto.OpenSession, default_k: Intrinsics):
        """Open the session on the least-loaded able worker; returns ``(worker, session id, result)``."""
        worker = self.pool.pick_worker(msg.generator)
        sid = self.sessions.new_id()
        try:
            reply = await self.pool.request(worker.worker_id, msgspec.structs.replace(msg, session=sid))
        except asyncio.CancelledError:
            # the client went away while the worker built the session: do not leave it there
            self._close_on_worker_later(worker.worker_id, sid)
            raise
        worker.sessions.add(sid)
        self.sessions.add(SessionRecord(sid, worker.worker_id, default_k, msg.generator))
        return worker, sid, reply

    def _open_message(self, request: session_pb2.OpenSessionRequest) -> tuple[proto.OpenSession, Intrinsics]:
        lim = self.limits
        n = len(request.reference_views)
        if n == 0:
            raise WireError(grpc.StatusCode.INVALID_ARGUMENT, "reference_views is empty: a session "
                            "needs at least one posed view")
        if n > lim.max_reference_views:
            raise WireError(grpc.StatusCode.INVALID_ARGUMENT,
                            f"{n} reference views exceed the limit of {lim.max_reference_views}")
        generator = request.generator or DEFAULT_GENERATOR
        if generator not in GENERATORS:
            raise WireError(grpc.StatusCode.INVALID_ARGUMENT,
                            f"unknown generator {proto.clip(generator, 64)!r}; available: {sorted(GENERATORS)}")
        views, ref_k = [], None
        for i, v in enumerate(request.reference_views):
            pv = parse_view(v.pose, v.intrinsics, v.rgb, v.depth if v.HasField("depth") else None,
                            lim, f"reference_views[{i}]").view
            views.append(proto.View.of(pv))
            ref_k = ref_k or pv.intrinsics
        if all(v.depth is None for v in views):
            raise WireError(grpc.StatusCode.INVALID_ARGUMENT, "no reference view carries depth: "
                            "the scene memory is built from depth")
        if ref_k is None:  # unreachable: an empty reference_views fails the check above
            raise WireError(grpc.StatusCode.INVALID_ARGUMENT, "no reference views")
        out = request.output
        width = out.width or ref_k.width
        height = out.height or ref_k.height
        if max(width, height) > lim.max_texture_side:
            raise WireError(grpc.StatusCode.INVALID_ARGUMENT, f"output {width}x{height} exceeds the "
                            f"limit of {lim.max_texture_side} pixels per side")
        fmt = out.format or TextureFormat.RGBA8
        if fmt not in (TextureFormat.RGBA8, TextureFormat.BGRA8, TextureFormat.JPEG, TextureFormat.PNG):
            name = image_pb2.TextureFormat.Name(fmt) if fmt in image_pb2.TextureFormat.values() else fmt
            raise WireError(grpc.StatusCode.INVALID_ARGUMENT,
                            f"output format {name} is not an output format (RGBA8, BGRA8, JPEG, PNG)")
        if out.row_order not in (0, RowOrder.TOP_DOWN, RowOrder.BOTTOM_UP):
            raise WireError(grpc.StatusCode.INVALID_ARGUMENT, f"unknown row order {out.row_order}")
        frame_bytes = frame_bytes_bound(width, height, fmt)
        if frame_bytes + FRAME_OVERHEAD_BYTES > lim.max_message_bytes:
            raise WireError(grpc.StatusCode.INVALID_ARGUMENT,
                            f"a {width}x{height} {TextureFormat(fmt).name} frame takes up to "
                            f"{frame_bytes:,} bytes, over the server's message limit of "
                            f"{lim.max_message_bytes:,}: lower the output size or use JPEG")
        quality = out.jpeg_quality or 90
        if not 1 <= quality <= 100:
            raise WireError(grpc.StatusCode.INVALID_ARGUMENT, f"jpeg_quality must be 1..100, got {quality}")
        lock = request.generator_options.anchor_lock
        if lock not in _ANCHOR_LOCK:
            raise WireError(grpc.StatusCode.INVALID_ARGUMENT,
                            f"generator_options.anchor_lock {lock} is not an AnchorLock value "
                            "(0 UNSPECIFIED, 1 ON, 2 OFF)")
        bundle = self._bundle(request.generator_options.bundle, generator)
        try:
            default_k = ref_k.scaled(width, height)
        except IntrinsicsError as e:
            raise WireError(grpc.StatusCode.INVALID_ARGUMENT, f"reference_views[0].intrinsics "
                            f"scaled to the {width}x{height} output: {e}") from None
        msg = proto.OpenSession(
            id=0, session="", generator=generator, seed=request.seed or hash_seed(request),
            anchor_lock=_ANCHOR_LOCK[lock], views=views, bundle=bundle,
            output=proto.Output(width=width, height=height, format=int(fmt),
                                row_order=int(out.row_order or RowOrder.TOP_DOWN), jpeg_quality=quality))
        return msg, default_k

    def _bundle(self, name: str, generator: str) -> str | None:
        """The folder of the bundle a session names (None: the worker's default).

        Raises:
            WireError: INVALID_ARGUMENT for a name that is not a bundle name or a bundle with
                another generator than ``frame-model``; NOT_FOUND for an unknown bundle.
        """
        if not name:
            return None
        if generator != "frame-model":
            raise WireError(grpc.StatusCode.INVALID_ARGUMENT, f"generator_options.bundle applies to the "
                            f"frame-model generator, not {proto.clip(generator, 64)!r}")
        try:
            return str(self.bundles.resolve(name))
        except BundleNameError as e:
            raise WireError(grpc.StatusCode.INVALID_ARGUMENT, f"generator_options.bundle: {e}") from None
        except UnknownBundleError as e:
            raise WireError(grpc.StatusCode.NOT_FOUND, f"generator_options.bundle: {e}") from None

    async def CloseSession(  # noqa: N802
            self, request: session_pb2.CloseSessionRequest,
            context: grpc.aio.ServicerContext) -> session_pb2.CloseSessionResponse:
        """Close a session on its worker; NOT_FOUND for an unknown session."""
        rec = await self._close(request.session_id)
        if rec is None:
            await abort(context, grpc.StatusCode.NOT_FOUND, f"unknown session {proto.clip(request.session_id, 64)!r}")
        return session_pb2.CloseSessionResponse(frames_served=rec.frames_served)

    # ------------------------------------------------------------------ frames

    def _render_message(self, req: frames_pb2.FrameRequest, rec: SessionRecord) -> proto.Render:
        k = parse_intrinsics(req.intrinsics, self.limits) if req.HasField("intrinsics") \
            else rec.default_intrinsics
        camera = parse_camera(req.pose, k, "pose")
        depth = parse_depth(req.depth, k) if req.HasField("depth") else None
        if req.keyframe and depth is None:
            raise WireError(grpc.StatusCode.INVALID_ARGUMENT, "keyframe requested without depth: "
                            "a keyframe is lifted into the memory with the engine's depth")
        return proto.Render.at(camera, session=rec.session_id, depth=depth, keyframe=bool(req.keyframe))

    async def StreamFrames(  # noqa: N802 (the service's method name)
            self, request_iterator: AsyncIterator[frames_pb2.FrameRequest],
            context: grpc.aio.ServicerContext) -> AsyncIterator[frames_pb2.Frame]:
        """Serve a stream of poses: newest pose wins (see :class:`FrameStream`).

        Yields:
            One Frame per rendered request (with the sequences it overtook) and one per
            refused request (its ``error`` set: NOT_FOUND for an unknown session,
            INVALID_ARGUMENT for a bad pose, intrinsics or depth).

        Ends the call with UNAVAILABLE when the session is lost with its worker, NOT_FOUND
        when the worker no longer knows the session, INVALID_ARGUMENT for an undecodable
        message.
        """
        stream = FrameStream(self, request_iterator)
        try:
            async for item in stream.results():
                if isinstance(item, _Abort):
                    await abort(context, item.code, item.message)
                yield item
        finally:
            stream.close()

    # ------------------------------------------------------------------ recording

    async def RecordTrajectory(  # noqa: N802
            self, request_iterator: AsyncIterator[recording_pb2.RecordRequest],
            context: grpc.aio.ServicerContext) -> recording_pb2.RecordingSummary:
        """Record a trajectory: a RecordingHeader, then frames, written as a nerfstudio dataset.

        A bad frame is rejected in the summary (its sequence, code and message) and the
        recording goes on; the dataset is finalised whatever ends the call. Ends the call with
        INVALID_ARGUMENT (no header, a bad dataset name, an undecodable message),
        ALREADY_EXISTS (the dataset exists) or FAILED_PRECONDITION (protocol major version).
        """
        t0 = time.perf_counter()
        requests = request_iterator.__aiter__()
        try:
            first = await anext(requests, None)
        except UndecodableRequest as e:
            await abort(context, e.code, e.message)
        if first is None or first.WhichOneof("kind") != "header":
            await abort(context, grpc.StatusCode.INVALID_ARGUMENT, "a recording starts with a RecordingHeader message")
        header = first.header
        try:
            check_hello(header.hello)
        except WireError as e:
            await abort(context, e.code, e.message)
        sink = _WriterThread()
        try:
            meta = {"description": header.description} if header.description else None
            writer = await sink.open(self.data_dir, header.dataset_name, metadata=meta)
        except (DatasetNameError, DatasetExistsError) as e:
            await sink.close()
            code = (grpc.StatusCode.INVALID_ARGUMENT if isinstance(e, DatasetNameError)
                    else grpc.StatusCode.ALREADY_EXISTS)
            await abort(context, code, str(e))
        except BaseException:
            await sink.close()  # cut off while the dataset was being created: finalise it anyway
            raise
        summary = recording_pb2.RecordingSummary(dataset_name=header.dataset_name, path=str(writer.path))
        failure: RecordingError | None = None
        undecodable: UndecodableRequest | None = None
        try:
            async for req in requests:
                if req.WhichOneof("kind") != "frame":
                    summary.rejected.add(sequence=0, code=grpc.StatusCode.INVALID_ARGUMENT.value[0],
                                         message="a second RecordingHeader was ignored")
                    continue
                f = req.frame
                depth = f.depth if f.HasField("depth") else None
                try:
                    pixels = self._request_pixels([(f.rgb, depth)], f"frame {f.sequence}")
                    async with self.decode_budget.hold(pixels):
                        v = await asyncio.to_thread(parse_view, f.pose, f.intrinsics, f.rgb, depth,
                                                    self.limits, f"frame {f.sequence}")
                except WireError as e:
                    summary.rejected.add(sequence=f.sequence, code=e.code.value[0], message=e.message)
                    continue
                await sink.call(writer.add_view, v, f.client_timestamp_us, f.sequence)
        except RecordingError as e:
            failure = e
        except UndecodableRequest as e:
            undecodable = e
        finally:
            # also when the client is cut off (the handler is cancelled): every frame received
            # so far is written and the dataset finalised, on the sink's own thread
            try:
                await sink.close()
            except RecordingError as e:
                failure = failure or e
        if failure is not None:
            code = grpc.StatusCode.RESOURCE_EXHAUSTED if isinstance(failure.__cause__, OSError) \
                and getattr(failure.__cause__, "errno", None) == errno.ENOSPC else grpc.StatusCode.INTERNAL
            await abort(context, code, f"recording {header.dataset_name} stopped after "
                                      f"{writer.num_committed} stored frames: {failure}")
        if undecodable is not None:
            await abort(context, undecodable.code, f"recording {header.dataset_name} stopped after "
                                                  f"{writer.num_committed} stored frames: {undecodable.message}")
        summary.frames_written = writer.num_committed
        summary.duration_s = time.perf_counter() - t0
        log.info("recorded %d frames into %s (%d rejected)", writer.num_committed, writer.path, len(summary.rejected))
        return summary


class _WriterThread:
    """Runs one recording's :class:`DatasetWriter` calls, in order, on its own thread.

    Every call is shielded from the handler's cancellation: when a client is cut off, grpc.aio
    cancels the handler, but a frame already handed over is still written and :meth:`close`
    still finalises the dataset (with the default executor, a cancelled call that had not
    started yet was dropped, and with it ``writer.close()``).
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recording")
        self._writer: DatasetWriter | None = None
        self._closed = False

    def _open(self, *args, **kwargs) -> DatasetWriter:
        self._writer = DatasetWriter(*args, **kwargs)
        return self._writer

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()

    async def _run(self, fn, *args, **kwargs):
        return await asyncio.shield(asyncio.wrap_future(self._pool.submit(fn, *args, **kwargs)))

    async def open(self, *args, **kwargs) -> DatasetWriter:
        """Create the writer (:class:`DatasetWriter` arguments)."""
        return await self._run(self._open, *args, **kwargs)

    async def call(self, fn, *args):
        """Run ``fn(*args)`` after every earlier call."""
        return await self._run(fn, *args)

    async def close(self) -> None:
        """Close the writer after every earlier call, then stop the thread (idempotent).

        Raises:
            RecordingError: from ``DatasetWriter.close``.
        """
        if self._closed:
            return
        self._closed = True
        done = asyncio.wrap_future(self._pool.submit(self._close))
        self._pool.shutdown(wait=False)
        await asyncio.shield(done)


_Paced = tuple[frames_pb2.FrameRequest, SessionRecord, proto.Render, float]
"""A request admitted to a stream's pacer: (request, its session, the worker message, arrival
time from ``time.perf_counter``)."""


class FrameStream:
    """One StreamFrames call: newest-pose-wins pacing between the client and a worker.

    A reader task validates each request and submits it to a
    :class:`~worldbridge.serving.gateway.pacing.NewestWinsPacer`; a renderer task sends the
    newest waiting request to the session's worker, so at most one request per stream is
    being rendered and a request overtaken while waiting is dropped and reported in the next
    Frame. A watcher per attached session ends the stream the moment the session is lost.
    Both tasks post to one queue that :meth:`results` drains.

    Args:
        servicer: the servicer whose sessions, worker pool, limits and decode budget serve.
        requests: the client's request stream.
    """

    def __init__(self, servicer: WorldBridgeServicer, requests: AsyncIterator[frames_pb2.FrameRequest]):
        self._servicer = servicer
        self._requests = requests
        self._out: asyncio.Queue[frames_pb2.Frame | _Abort | None] = asyncio.Queue()
        self._pacer: NewestWinsPacer[_Paced] = NewestWinsPacer()
        self._attached: set[str] = set()
        self._tasks: list[asyncio.Task] = []

    async def results(self) -> AsyncIterator[frames_pb2.Frame | _Abort]:
        """Frames and per-request errors in order, then an :class:`_Abort` if the stream must
        end with a status; ends when the client's stream and every admitted request are done."""
        self._tasks += [asyncio.create_task(self._read()), asyncio.create_task(self._render())]
        while (item := await self._out.get()) is not None:
            yield item

    def close(self) -> None:
        """Cancel the stream's tasks and detach it from its sessions."""
        for t in self._tasks:
            t.cancel()
        for sid in self._attached:
            rec = self._servicer.sessions.get(sid)
            if rec is not None:
                rec.open_streams -= 1
                rec.last_used = time.monotonic()

    async def _read(self) -> None:
        try:
            async for req in self._requests:
                if not await self._admit(req):
                    return
        except UndecodableRequest as e:
            self._out.put_nowait(_Abort(e.code, e.message))
        finally:
            self._pacer.close()

    async def _admit(self, req: frames_pb2.FrameRequest) -> bool:
        """Validate one request and submit it to the pacer (or post its error); False when the
        stream must end (its session is lost)."""
        t_arrival = time.perf_counter()
        srv = self._servicer
        rec = srv.sessions.get(req.session_id)
        if rec is None:
            self._out.put_nowait(_frame_error(req, grpc.StatusCode.NOT_FOUND,
                                              f"unknown session {proto.clip(req.session_id, 64)!r}"))
            return True
        if rec.session_id not in self._attached:
            self._attached.add(rec.session_id)
            rec.open_streams += 1
            self._tasks.append(asyncio.create_task(self._watch(rec)))
        if rec.lost:
            self._out.put_nowait(_lost(rec))
            return False
        try:
            if req.HasField("depth"):
                pixels = srv._request_pixels([(None, req.depth)], "the frame request")
                async with srv.decode_budget.hold(pixels):
                    msg = await asyncio.to_thread(srv._render_message, req, rec)
            else:
                msg = srv._render_message(req, rec)
        except WireError as e:
            self._out.put_nowait(_frame_error(req, e.code, e.message))
            return True
        self._pacer.submit(req.sequence, (req, rec, msg, t_arrival))
        return True

    async def _watch(self, rec: SessionRecord) -> None:
        # an idle stream learns at once that its session was lost with its worker
        await rec.lost_event.wait()
        self._out.put_nowait(_lost(rec))

    async def _render(self) -> None:
        while (paced := await self._pacer.next()) is not None:
            req, rec, msg, t_arrival = paced.item
            try:
                reply = await self._servicer.pool.request(rec.worker_id, msg)
            except WorkerUnavailable as e:
                self._servicer.sessions.mark_lost(rec.session_id, str(e))
                self._out.put_nowait(_Abort(grpc.StatusCode.UNAVAILABLE, f"session {rec.session_id}: {e}"))
                return
            except WorkerError as e:
                code = getattr(grpc.StatusCode, e.code, grpc.StatusCode.INTERNAL)
                if code == grpc.StatusCode.NOT_FOUND:
                    self._out.put_nowait(_Abort(code, e.message))
                    return
                f = _frame_error(req, code, e.message)
                f.skipped_sequences.extend(paced.skipped)
                self._out.put_nowait(f)
                continue
            rec.frames_served += 1
            rec.last_used = time.monotonic()
            self._out.put_nowait(_served_frame(req, reply, paced.skipped, t_arrival))
        self._out.put_nowait(None)


def _lost(rec: SessionRecord) -> _Abort:
    return _Abort(grpc.StatusCode.UNAVAILABLE, f"session {rec.session_id} is lost: {rec.lost_reason}")


def _served_frame(req: frames_pb2.FrameRequest, reply: proto.FrameResult, skipped: list[int],
                  t_arrival: float) -> frames_pb2.Frame:
    """The Frame of a worker's reply, with its stage timings (ms) and the time it queued."""
    stages_ms = reply.anchor_ms + reply.model_ms + reply.encode_ms
    frame = frames_pb2.Frame(
        sequence=req.sequence, client_timestamp_us=req.client_timestamp_us,
        texture=image_pb2.Texture(data=reply.texture.tobytes(), width=reply.width, height=reply.height,
                                  format=reply.format, row_order=reply.row_order),  # type: ignore[arg-type]
        skipped_sequences=skipped, anchor_coverage=reply.coverage,
        timings=frames_pb2.StageTimings(anchor_ms=reply.anchor_ms, model_ms=reply.model_ms,
                                        encode_ms=reply.encode_ms))
    total_ms = (time.perf_counter() - t_arrival) * 1e3
    frame.timings.server_total_ms = total_ms
    frame.timings.queue_ms = max(0.0, total_ms - stages_ms)
    return frame


def hash_seed(request: session_pb2.OpenSessionRequest) -> int:
    """Default session seed: derived from the reference views' poses, so reopening the same
    world gives the same noise."""
    h = hashlib.blake2b(digest_size=8)
    for v in request.reference_views:
        h.update(v.pose.SerializeToString(deterministic=True))
    return int.from_bytes(h.digest(), "little") >> 1
