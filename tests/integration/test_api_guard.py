"""Issue 13 §5: what a client without a valid token can do to a real `up` process.

Real sockets on loopback against `hydra-jobs up`; 127.0.0.2 stands for a second client address
(all of 127/8 is loopback on Linux).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
import uvicorn

from hydra_jobs.scheduler.api.serving import guarded_protocol
from tests.conftest import ADMIN, free_port, wait_for
from tests.procs import HYDRA, UpProcess, cli_env

API = "/api/v1"
# An answer not held back by the throttle (whose longest delay is 1 s), on a busy machine.
PROMPT = 0.9  # seconds


@pytest.fixture
def up(tmp_path: Path) -> Iterator[UpProcess]:
    proc = UpProcess(tmp_path / "up").start()
    yield proc
    proc.stop()


def _client(url: str, source: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(
        base_url=url + API, transport=httpx.HTTPTransport(local_address=source), timeout=10
    )


def test_wrong_tokens_are_throttled_per_address_and_valid_ones_never(up: UpProcess) -> None:
    wrong = {"Authorization": "Bearer not-a-token"}
    admin = {"Authorization": f"Bearer {ADMIN}"}
    with _client(up.url) as attacker, _client(up.url, "127.0.0.2") as other:
        codes: list[int] = []
        slowest = 0.0
        for _ in range(200):  # bounded: the throttle answers 429 long before
            started = time.monotonic()
            response = attacker.get("/jobs", headers=wrong)
            slowest = max(slowest, time.monotonic() - started)
            codes.append(response.status_code)
            if response.status_code == 429:
                break
        assert codes[-1] == 429, f"{len(codes)} wrong tokens, never a 429"
        assert set(codes[:-1]) == {401}
        assert slowest >= 0.5, "no growing delay before the 429"
        retry_after = int(response.headers["Retry-After"])
        assert 1 <= retry_after <= 400
        assert "try again" in response.json()["detail"]
        # Locked: more wrong tokens get 429 at once.
        started = time.monotonic()
        assert attacker.get("/jobs", headers=wrong).status_code == 429
        assert time.monotonic() - started < PROMPT
        # A valid token from the same address is neither slowed nor refused.
        for _ in range(5):
            started = time.monotonic()
            assert attacker.get("/jobs", headers=admin).status_code == 200
            assert time.monotonic() - started < PROMPT
        # Another address is not locked out: its first wrong token is a plain, prompt 401.
        started = time.monotonic()
        assert other.get("/jobs", headers=wrong).status_code == 401
        assert time.monotonic() - started < PROMPT
        assert other.get("/jobs", headers=admin).status_code == 200


def test_up_and_scheduler_refuse_the_same_short_admin_token(tmp_path: Path) -> None:
    for command in ("up", "scheduler"):
        env = cli_env(
            ADMIN_TOKEN="abc", HYDRA_DATA_DIR=str(tmp_path), REDIS_URL="redis://127.0.0.1:9"
        )
        if command == "up":
            env.pop("REDIS_URL")
        result = subprocess.run(
            [HYDRA, command, "--port", "9"], env=env, capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "at least 32 characters" in result.stderr, command
        assert not (tmp_path / "hydra.db").exists(), f"{command} started before refusing"


HEADER_TIMEOUT = 3.0  # seconds, as the tests configure it
PARTIAL = b"GET /api/v1/jobs HTTP/1.1\r\nHost: x\r\n"  # a request head that never ends


def _read_until_closed(sock: socket.socket, deadline: float) -> bytes:
    """What the server sends before closing; b"<open>" appended if it is still open at deadline."""
    data = b""
    # poll, not select: after 300 sockets this process's descriptors pass FD_SETSIZE (1024)
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(max(0.0, deadline - time.monotonic())):
                break
            chunk = sock.recv(65536)
            if not chunk:
                return data
            data += chunk
    return data + b"<open>"


def test_incomplete_heads_are_closed_and_connections_capped_at_a_low_fd_limit(
    tmp_path: Path,
) -> None:
    """300 connections that never finish their head, against a server limited to 256
    descriptors: it keeps answering (200, or a prompt 503 while full), closes each of them
    after the header timeout, and serves everyone again."""
    up = UpProcess(tmp_path / "up", HYDRA_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT))
    up.nofile = (256, 256)
    up.start()
    assert "serving at most 160 connections" in up.log.read_text()  # 256 - a reserve of 96
    slow: list[socket.socket] = []
    try:
        opened = time.monotonic()
        for _ in range(300):
            sock = socket.create_connection(("127.0.0.1", up.port), timeout=5)
            sock.sendall(PARTIAL)
            slow.append(sock)
        started = time.monotonic()
        answer = httpx.get(up.url + "/healthz", timeout=10)
        assert time.monotonic() - started < 4.0  # it never came before: the server had stalled
        assert answer.status_code in (200, 503)
        if answer.status_code == 503:
            assert "too many connections" in answer.text and answer.headers["retry-after"]
        assert psutil.Process(up.pid).num_fds() < 256
        deadline = opened + HEADER_TIMEOUT + 10.0
        endings = [_read_until_closed(sock, deadline) for sock in slow]
        assert not [e for e in endings if e.endswith(b"<open>")], "connections left open"
        refused = [e for e in endings if e.startswith(b"HTTP/1.1 503")]
        timed_out = [e for e in endings if e.startswith(b"HTTP/1.1 408")]
        assert refused and timed_out and len(refused) + len(timed_out) == len(slow)
        with httpx.Client(base_url=up.url + API, timeout=5) as client:
            jobs = client.get("/jobs", headers={"Authorization": f"Bearer {ADMIN}"})
            assert jobs.status_code == 200
    finally:
        for sock in slow:
            sock.close()
        up.stop()


def test_a_keep_alive_connection_cannot_stall_its_next_head(tmp_path: Path) -> None:
    up = UpProcess(tmp_path / "up", HYDRA_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT)).start()
    try:
        with socket.create_connection(("127.0.0.1", up.port), timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            first = b""
            while b"\r\n\r\n" not in first or not first.rstrip().endswith(b"}"):
                first += sock.recv(65536)
            assert first.startswith(b"HTTP/1.1 200")
            sent = time.monotonic()
            sock.sendall(PARTIAL)  # cancels uvicorn's keep-alive timer, ends no head
            ending = _read_until_closed(sock, sent + HEADER_TIMEOUT + 10.0)
            assert ending.startswith(b"HTTP/1.1 408"), ending[:100]
            assert time.monotonic() - sent >= HEADER_TIMEOUT - 0.5
        with socket.create_connection(("127.0.0.1", up.port), timeout=5) as sock:
            sock.sendall(PARTIAL + b"X-Pad: " + b"a" * 70_000)
            ending = _read_until_closed(sock, time.monotonic() + 10.0)
            assert ending.startswith(b"HTTP/1.1 431"), ending[:100]
    finally:
        up.stop()


def test_up_raises_its_soft_descriptor_limit(tmp_path: Path) -> None:
    up = UpProcess(tmp_path / "up")
    up.nofile = (256, 4096)
    up.start()
    try:
        assert psutil.Process(up.pid).rlimit(psutil.RLIMIT_NOFILE) == (4096, 4096)
    finally:
        up.stop()


@pytest.mark.parametrize("base", ["h11", "httptools"])
def test_the_guard_works_over_both_of_uvicorns_http_parsers(base: str) -> None:
    """The same rules with h11 (used when httptools is not installed) and httptools."""
    from uvicorn.protocols.http.h11_impl import H11Protocol
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    protocol = guarded_protocol(1.0, 2, H11Protocol if base == "h11" else HttpToolsProtocol)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, http=protocol, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 15, message="server start")
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).text == "ok"
        wait_for(lambda: not server.server_state.connections, 5, message="the first closed")
        with contextlib.ExitStack() as stack:
            held = [
                stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
                for _ in range(3)
            ]
            for sock in held:
                sock.sendall(PARTIAL)
            endings = [_read_until_closed(sock, time.monotonic() + 10) for sock in held]
            assert [e[:12] for e in endings] == [b"HTTP/1.1 408"] * 2 + [b"HTTP/1.1 503"]
        assert httpx.get(f"http://127.0.0.1:{port}/", timeout=5).text == "ok"
    finally:
        server.should_exit = True
        thread.join(10)
