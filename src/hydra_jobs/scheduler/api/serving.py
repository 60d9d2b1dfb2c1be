"""Serving the app with uvicorn so that clients without a token cannot starve it (issue 13 §5).

uvicorn closes an idle keep-alive connection, but not one whose request head never ends: a
connection that sends half a request line (or nothing) holds its descriptor forever, and a few
hundred of them exhaust the descriptor limit, after which the server accepts no one. So:
- every request head must be complete within `HYDRA_HEADER_TIMEOUT_SECONDS` of its first byte
  (of the connection, for the first request), else the connection gets 408 and is closed, and a
  head larger than `MAX_HEAD_BYTES` gets 431;
- at most `HYDRA_MAX_CONNECTIONS` connections are open at once, and never so many that the
  process runs out of descriptors for its own files, pipes and jobs: one more is answered 503
  (with Retry-After) and closed at once, which keeps the accept loop turning;
- the soft descriptor limit is raised at start (as far as the hard one allows).

The guard wraps uvicorn's HTTP protocol (httptools when installed, else h11) rather than sitting
in the ASGI app, because the app sees a request only once its head is complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
from collections import deque
from typing import Any, ClassVar, cast

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024  # request line and headers; uvicorn's h11 allows 16 KiB of them
FD_TARGET = 65536  # the soft descriptor limit asked for at start (capped by the hard limit)
FD_RESERVE_MIN = 96  # descriptors kept for the store, logs, the broker and the jobs' pipes
# A refused connection is kept this long to read what its client sends (closing a socket with
# unread data resets it, and the client sees a reset instead of the 503); at most
# `max_connections // 16` (at least 8) at once.
LINGER_SECONDS = 1.0


def _raw_response(status: str, body: str, extra: str = "") -> bytes:
    data = body.encode()
    return (
        f"HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(data)}\r\nconnection: close\r\n{extra}\r\n"
    ).encode() + data


TOO_MANY = _raw_response(
    "503 Service Unavailable", "too many connections: try again shortly\n", "retry-after: 1\r\n"
)
TIMED_OUT = _raw_response("408 Request Timeout", "request head not received in time\n")
TOO_LARGE = _raw_response("431 Request Header Fields Too Large", "request head too large\n")


def raise_fd_limit(target: int = FD_TARGET) -> int:
    """Raise the soft RLIMIT_NOFILE towards `target` (never past the hard limit, never lower);
    returns the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = target if hard == resource.RLIM_INFINITY else min(target, hard)
    if wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError) as exc:
            log.warning("cannot raise the descriptor limit from %d: %s", soft, exc)
    return soft


def connection_cap(wanted: int, fd_limit: int) -> int:
    """At most `wanted` connections, leaving a quarter of the descriptors (at least
    FD_RESERVE_MIN) to everything else the process opens."""
    reserve = max(FD_RESERVE_MIN, fd_limit // 4)
    return max(1, min(wanted, fd_limit - reserve))


class _HeadGuard:
    """Mixed into a uvicorn HTTP protocol: a deadline on each request head, and the cap.

    A new request head starts when bytes arrive while no request is in progress; it is
    complete when the protocol starts a new request cycle (`self.cycle`), in both h11 and
    httptools, which is what ends the deadline.
    """

    header_timeout: float = 10.0
    max_connections: int = 1000
    # Set by uvicorn's protocols; declared for the type checker.
    cycle: Any
    connections: set[Any]
    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop

    # Refused connections still open, oldest first, of every protocol instance. Past the bound,
    # the oldest is closed: it has most likely sent its request and read its 503 by then.
    lingering: ClassVar[deque[asyncio.Transport]] = deque()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._deadline: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._rejected = len(self.connections) >= self.max_connections
        if self._rejected:
            # uvloop's transports implement asyncio.Transport without subclassing it.
            self._refuse_connection(cast(asyncio.Transport, transport))
            return
        super().connection_made(transport)  # type: ignore[misc]
        self._arm()

    def _refuse_connection(self, transport: asyncio.Transport) -> None:
        transport.write(TOO_MANY)
        transport.write_eof()
        self.lingering.append(transport)
        while len(self.lingering) > max(8, self.max_connections // 16):
            self.lingering.popleft().close()
        asyncio.get_running_loop().call_later(LINGER_SECONDS, transport.close)
        self._transport = transport

    def eof_received(self) -> bool | None:
        if self._rejected:
            return False  # the client read the 503 and closed: close our end too
        return super().eof_received()  # type: ignore[misc, no-any-return]

    def connection_lost(self, exc: Exception | None) -> None:
        if self._rejected:
            with contextlib.suppress(ValueError):
                self.lingering.remove(self._transport)
            return
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        if self._rejected:
            return  # read and dropped, so that closing does not reset the connection
        idle = self.cycle is None or self.cycle.response_complete
        if self._deadline is None and idle:
            self._arm()
        before = self.cycle
        if self._deadline is not None:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(TOO_LARGE)
                return
        super().data_received(data)  # type: ignore[misc]
        if self.cycle is not before:
            self._disarm()

    def _arm(self) -> None:
        self._head_bytes = 0
        self._armed_cycle = self.cycle
        self._deadline = self.loop.call_later(self.header_timeout, self._timed_out)

    def _timed_out(self) -> None:
        # A request that started without passing through `data_received` (h11 starts a
        # pipelined one when the previous response ends) is not cut off.
        if self.cycle is not self._armed_cycle and not self.cycle.response_complete:
            self._deadline = None
            return
        self._refuse(TIMED_OUT)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _refuse(self, response: bytes) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.write(response)
            self.transport.close()


def guarded_protocol(
    header_timeout: float, max_connections: int, base: type[asyncio.Protocol] | None = None
) -> type[asyncio.Protocol]:
    """`base`, by default uvicorn's HTTP protocol (httptools if installed, as uvicorn's
    "auto"), guarded."""
    if base is None:
        base = H11Protocol
        try:
            from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

            base = HttpToolsProtocol
        except ImportError:  # httptools is optional
            pass
    attrs = {"header_timeout": header_timeout, "max_connections": max_connections}
    return type(f"Guarded{base.__name__}", (_HeadGuard, base), attrs)


def serve(app: Any, sock: socket.socket, *, header_timeout: float, max_connections: int) -> None:
    """Serve `app` on the bound socket `sock` until a signal stops it."""
    fd_limit = raise_fd_limit()
    cap = connection_cap(max_connections, fd_limit)
    if cap < max_connections:
        log.warning(
            "serving at most %d connections, not HYDRA_MAX_CONNECTIONS=%d: the descriptor limit"
            " is %d (raise it with ulimit -n or LimitNOFILE=)",
            cap,
            max_connections,
            fd_limit,
            extra={"action": "connection_cap"},
        )
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        http=guarded_protocol(header_timeout, cap),
        # Bounds the request tasks too (a connection with pipelined requests, streams).
        limit_concurrency=2 * cap,
    )
    StreamEndingServer(config, app).run(sockets=[sock])


class StreamEndingServer(uvicorn.Server):
    """uvicorn's server, which ends the open live streams as soon as it is told to stop.

    uvicorn waits for every connection to finish before the app's shutdown runs; an SSE stream
    (a UI tab, `logs -f`) never finishes by itself, so a stop waited until it was killed, and
    the drain (a running job's end reaching the store) never ran. The clients reconnect
    (to another replica, or to this one once it is back) and resume.
    """

    def __init__(self, config: uvicorn.Config, app: Any) -> None:
        super().__init__(config)
        self._app = app

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        engine = getattr(self._app.state, "engine", None)
        if engine is not None:
            engine.hub.end_streams()
        await super().shutdown(sockets)
