"""A job's output: read in chunks through an incremental UTF-8 decoder, capped, sent in batches."""

from __future__ import annotations

import asyncio
import codecs
import os
from typing import IO, Any

from hydra_jobs.worker.process.spec import OutputSink, ProcessSpec
from hydra_jobs.worker.process.support import WINDOWS, in_thread, set_result

READ_CHUNK_BYTES = 64 * 1024
# Once we stop waiting on the pipe, how much already-written output we still read.
ABORT_DRAIN_LIMIT_BYTES = 1024 * 1024
TRUNCATION_MARKER = "\n[hydra: output truncated after {cap} bytes]\n"


class OutputPump:
    """Reads the job's merged stdout/stderr and ships it to the sink in bounded batches."""

    def __init__(self, pipe: IO[bytes], spec: ProcessSpec, sink: OutputSink) -> None:
        self._pipe = pipe
        self._fd = pipe.fileno()
        self._spec = spec
        self._sink = sink
        self._loop = asyncio.get_running_loop()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending: list[str] = []
        self._pending_bytes = 0
        self._flush_at: float | None = None  # loop time by which pending text must be shipped
        self._wake: asyncio.Future[bool] | None = None
        self._watching = False
        self._thread_read: asyncio.Future[bytes] | None = None
        self._aborted = False
        self._abort_budget_bytes = ABORT_DRAIN_LIMIT_BYTES
        self.total_bytes = 0
        self.forwarded_bytes = 0
        self.truncated = False
        if not WINDOWS:
            os.set_blocking(self._fd, False)

    async def run(self) -> None:
        while (data := await self._next_chunk()) is not None:
            self._accept(data)
            due = self._flush_at is not None and self._loop.time() >= self._flush_at
            if due or self._pending_bytes >= self._spec.flush_bytes:
                await self._flush()
            else:
                await asyncio.sleep(0)  # a job writing flat out must not starve the event loop
        if not self.truncated:
            self._push(self._decoder.decode(b"", final=True), 0)
        await self._flush()

    def abort(self) -> None:
        """Stop waiting for EOF: read what is already in the pipe (bounded), then finish."""
        self._aborted = True
        if self._wake is not None:
            set_result(self._wake, True)

    def fileno(self) -> int:
        return self._fd

    def close(self) -> None:
        self._unwatch()
        self._pipe.close()

    def _accept(self, data: bytes) -> None:
        self.total_bytes += len(data)
        if self.truncated or not data:
            return
        room = self._spec.output_cap_bytes - self.forwarded_bytes
        if len(data) <= room:
            self.forwarded_bytes += len(data)
            self._push(self._decoder.decode(data), len(data))
            return
        # A multibyte character cut by the cap stays in the decoder and is dropped with the rest.
        self._push(self._decoder.decode(data[:room]), room)
        self.forwarded_bytes += room
        self.truncated = True
        self._push(TRUNCATION_MARKER.format(cap=self._spec.output_cap_bytes), 0)

    def _push(self, text: str, nbytes: int) -> None:
        if not text:
            return
        self._pending.append(text)
        self._pending_bytes += nbytes
        if self._flush_at is None:
            self._flush_at = self._loop.time() + self._spec.flush_interval_seconds

    async def _flush(self) -> None:
        self._flush_at = None
        if not self._pending:
            return
        text = "".join(self._pending)
        self._pending.clear()
        self._pending_bytes = 0
        await self._sink(text)

    async def _next_chunk(self) -> bytes | None:
        """The next chunk; b"" when it is time to flush; None at EOF or when we gave up."""
        if WINDOWS:
            return await self._next_chunk_threaded()
        while True:
            try:
                data = os.read(self._fd, READ_CHUNK_BYTES)
            except BlockingIOError:
                if self._aborted:
                    return None
                if not await self._readable_before_flush():
                    return b""
                continue
            if not data:
                return None
            if self._aborted:
                self._abort_budget_bytes -= len(data)
                if self._abort_budget_bytes < 0:
                    return None
            return data

    async def _readable_before_flush(self) -> bool:
        """Wait until the pipe is readable (True) or pending output is due (False)."""
        wake: asyncio.Future[bool] = self._loop.create_future()
        self._wake = wake
        self._loop.add_reader(self._fd, set_result, wake, True)
        self._watching = True
        timer = None
        if self._flush_at is not None:
            timer = self._loop.call_at(self._flush_at, set_result, wake, False)
        try:
            return await wake
        finally:
            self._unwatch()
            self._wake = None
            if timer is not None:
                timer.cancel()

    def _unwatch(self) -> None:
        if self._watching:
            self._loop.remove_reader(self._fd)
            self._watching = False

    async def _next_chunk_threaded(self) -> bytes | None:
        # Windows pipes cannot be watched by the event loop, so one blocking read at a time runs
        # in a thread. A read left blocked by an escaped process ends when that process does.
        # (Untested here: this module's tests run on Linux.)
        if self._thread_read is None:
            self._thread_read = in_thread(os.read, self._fd, READ_CHUNK_BYTES)
        self._wake = self._loop.create_future()
        timeout = None if self._flush_at is None else max(0.0, self._flush_at - self._loop.time())
        waits: list[asyncio.Future[Any]] = [self._thread_read, self._wake]
        await asyncio.wait(waits, timeout=timeout)
        self._wake = None
        if not self._thread_read.done():
            return None if self._aborted else b""
        data = self._thread_read.result()
        self._thread_read = None
        return data or None
