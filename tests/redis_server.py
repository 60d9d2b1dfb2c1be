"""A real redis-server for tests: a free port, no persistence, killed and restarted on demand."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REDIS_SERVER = shutil.which("redis-server")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def require_redis() -> str:
    """The redis-server binary; skip loudly without one, fail under CI."""
    if REDIS_SERVER is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (apt-get install redis-server)")
        pytest.skip("redis-server is not installed; distributed-mode tests need it")
    return REDIS_SERVER


class RedisServer:
    """`redis-server --save "" --appendonly no`: a restart always comes back empty.

    It daemonizes, so it is no child of the test process (tests that count the test process's
    descendants, like P1's, stay exact); `pid` comes from its pid file.
    """

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.binary = require_redis()
        self.workdir = workdir
        self.port = port or _free_port()
        self.pid: int | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        pidfile = self.workdir / f"redis-{self.port}.pid"
        pidfile.unlink(missing_ok=True)
        subprocess.run(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
                "--maxclients",
                "2000",
                "--daemonize",
                "yes",
                "--pidfile",
                str(pidfile),
                "--logfile",
                str(self.workdir / f"redis-{self.port}.log"),
            ],
            check=True,
            timeout=10,
        )
        deadline = time.monotonic() + 10
        while not (pidfile.exists() and pidfile.read_text().strip() and self._answers()):
            if time.monotonic() > deadline:
                raise AssertionError(f"redis-server did not answer on {self.port}")
            time.sleep(0.02)
        self.pid = int(pidfile.read_text())
        return self

    def _answers(self) -> bool:
        try:
            return self.command("PING") == "PONG"
        except OSError:
            return False

    def _gone(self) -> bool:
        assert self.pid is not None
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        return not self._answers()

    def _wait_gone(self) -> None:
        deadline = time.monotonic() + 10
        while not self._gone():
            if time.monotonic() > deadline:
                raise AssertionError("redis-server did not stop")
            time.sleep(0.01)
        # The port must be free again before a restart binds it.
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind(("127.0.0.1", self.port))
                    return
                except OSError:
                    time.sleep(0.01)

    def kill9(self) -> None:
        assert self.pid is not None
        os.kill(self.pid, signal.SIGKILL)
        self._wait_gone()

    def stop(self) -> None:
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        self._wait_gone()

    def restart(self, down_seconds: float = 0.0) -> None:
        """kill -9, stay down for `down_seconds`, start again (empty) on the same port."""
        self.kill9()
        time.sleep(down_seconds)
        self.start()

    def command(self, *args: str) -> str:
        """One command over a plain socket (RESP), for tests that must not use our client."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as sock:
            parts = [f"*{len(args)}\r\n"] + [f"${len(a.encode())}\r\n{a}\r\n" for a in args]
            sock.sendall("".join(parts).encode())
            reply = sock.makefile("rb").readline().decode().rstrip("\r\n")
        if reply.startswith("-"):
            raise RuntimeError(reply[1:])
        return reply[1:]

    def flush(self) -> None:
        self.command("FLUSHALL")
