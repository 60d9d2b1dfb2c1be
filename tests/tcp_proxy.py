"""A TCP proxy a test can cut: the network fault between a process and Redis.

Runs its own asyncio loop in a thread. Modes:
- `open`: bytes flow both ways;
- `cut()`: every connection is reset and new ones are closed at once (a partition the peers
  notice immediately);
- `blackhole()`: connections stay open but nothing is forwarded (a partition only timeouts reveal).
`restore()` goes back to `open` for new connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from typing import Any


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.mode = "open"
        self.accepted = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.port = 0

    def start(self) -> TcpProxy:
        self._thread.start()
        self.port = self._call(self._start())
        return self

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    async def _start(self) -> int:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        sock: socket.socket = self._server.sockets[0]
        return int(sock.getsockname()[1])

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.mode == "cut":
            _reset(writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(writer)
            return
        self._writers.update((writer, up_writer))
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            for w in (writer, up_writer):
                self._writers.discard(w)
                with contextlib.suppress(Exception):
                    w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError):
            while data := await reader.read(65536):
                if self.mode == "blackhole":
                    continue  # swallowed: the peer waits for a reply that never comes
                if self.mode == "cut":
                    break
                writer.write(data)
                await writer.drain()
        _reset(writer)

    def cut(self) -> None:
        """Reset every connection; refuse new ones until `restore()`."""

        async def apply() -> None:
            self.mode = "cut"
            for writer in list(self._writers):
                _reset(writer)

        self._call(apply())

    def blackhole(self) -> None:
        self.mode = "blackhole"

    def restore(self) -> None:
        """New connections flow again (blackholed ones are reset, so their owners reconnect)."""

        async def apply() -> None:
            if self.mode == "blackhole":
                for writer in list(self._writers):
                    _reset(writer)
            self.mode = "open"

        self._call(apply())

    def close(self) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            for writer in list(self._writers):
                _reset(writer)

        self._call(stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)


def _reset(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            # SO_LINGER 0: close sends RST, as a dropped link does to the next packet.
            sock.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
    with contextlib.suppress(Exception):
        writer.close()
