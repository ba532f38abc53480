"""A bounded pool of writer threads whose results are committed strictly in submission order.

Frames are encoded and written in parallel (OpenCV and file I/O release the GIL), finish
out of order, and are committed (journaled) in order: frame ``i`` is committed only after
frames ``0 .. i-1``, so what is committed is always a prefix of what was submitted. The
queue is bounded: :meth:`OrderedWritePool.submit` blocks while ``max_pending`` jobs wait,
so memory cannot grow without bound and nothing is ever dropped.

After a job fails, no later job is committed (the committed prefix stops before it), the
remaining jobs are discarded unrun, and :meth:`submit` and :meth:`close` raise
:class:`~worldbridge.recording.errors.RecordingError` with the failure as its cause.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import Any

from worldbridge.recording.errors import RecordingError

__all__ = ["OrderedWritePool"]

_STOP = object()


class OrderedWritePool:
    """Run ``work(job)`` on worker threads, then ``commit(index, result)`` in index order.

    Args:
        work: called on a worker thread with each job; returns the result to commit.
        commit: called with ``(index, result)`` for indices 0, 1, 2 ... in order, under the
            pool's commit lock (one at a time), on whichever worker finished the gap.
        num_workers: worker threads (>= 1).
        max_pending: jobs that may wait in the queue before :meth:`submit` blocks (>= 1).
        name: thread name prefix.

    Raises:
        ValueError: ``num_workers`` or ``max_pending`` below 1.
    """

    def __init__(self, work: Callable[[Any], Any], commit: Callable[[int, Any], None],
                 num_workers: int, max_pending: int, name: str = "worldbridge-writer") -> None:
        if num_workers < 1 or max_pending < 1:
            raise ValueError(f"num_workers and max_pending must be >= 1, got {num_workers} "
                             f"and {max_pending}")
        self._work, self._commit = work, commit
        self._queue: queue.Queue = queue.Queue(maxsize=max_pending)
        self._lock = threading.Lock()
        self._submit_lock = threading.Lock()
        self._finished: dict[int, Any] = {}
        self._submitted = 0
        self._committed = 0
        self._error: BaseException | None = None
        self._error_index: int | None = None
        self._closed = False
        # Daemon threads: a writer that is never closed cannot hang interpreter exit; the
        # recording package closes open writers from an atexit hook instead.
        self._threads = [threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True)
                         for i in range(num_workers)]
        for t in self._threads:
            t.start()

    @property
    def submitted(self) -> int:
        """Jobs accepted so far (the next job gets this index)."""
        return self._submitted

    @property
    def committed(self) -> int:
        """Jobs committed so far: indices ``0 .. committed - 1``."""
        return self._committed

    @property
    def error(self) -> BaseException | None:
        """The first failure of ``work`` or ``commit``, if any."""
        return self._error

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise RecordingError(f"background write of frame {self._error_index} failed: "
                                 f"{self._error!r}; frames 0..{self._committed - 1} are "
                                 "stored") from self._error

    def submit(self, make_job: Callable[[int], Any]) -> int:
        """Queue a job, blocking while the queue is full.

        Args:
            make_job: called with the job's index (under the submit lock) to build the job.

        Returns:
            The job's index.

        Raises:
            RecordingError: the pool is closed or an earlier job failed.
            Exception: whatever ``make_job`` raises (nothing is queued then).
        """
        with self._submit_lock:
            if self._closed:
                raise RecordingError("the writer is closed")
            self._raise_if_failed()
            index = self._submitted
            job = make_job(index)
            self._queue.put((index, job))
            self._submitted += 1
            return index

    def wait(self) -> None:
        """Block until every submitted job is committed (or discarded after a failure).

        Raises:
            RecordingError: a job failed.
        """
        self._queue.join()
        self._raise_if_failed()

    def close(self) -> None:
        """Drain the queue, commit everything and stop the threads (idempotent).

        Raises:
            RecordingError: a job failed (every job before it is committed).
        """
        with self._submit_lock:
            if not self._closed:
                self._closed = True
                for _ in self._threads:
                    self._queue.put((None, _STOP))
        for t in self._threads:
            if t is not threading.current_thread():
                t.join()
        self._raise_if_failed()

    def _fail(self, index: int, error: BaseException) -> None:
        with self._lock:
            if self._error is None or index < (self._error_index or 0):
                self._error, self._error_index = error, index

    def _run(self) -> None:
        while True:
            index, job = self._queue.get()
            try:
                if job is _STOP:
                    return
                if self._error is not None and index > (self._error_index or 0):
                    continue  # after a failure nothing later can be committed
                try:
                    result = self._work(job)
                except BaseException as e:  # noqa: BLE001 (reported by submit/close)
                    self._fail(index, e)
                    continue
                self._finish(index, result)
            finally:
                self._queue.task_done()

    def _finish(self, index: int, result: Any) -> None:
        with self._lock:
            self._finished[index] = result
            while self._committed in self._finished and (
                    self._error is None or self._committed < (self._error_index or 0)):
                i = self._committed
                try:
                    self._commit(i, self._finished.pop(i))
                except BaseException as e:  # noqa: BLE001
                    if self._error is None or i < (self._error_index or 0):
                        self._error, self._error_index = e, i
                    return
                self._committed += 1
