"""Real local receivers for notification tests: an HTTP server (webhook, Slack) that can fail its
first requests, and an SMTP server (aiosmtpd) with optional STARTTLS and AUTH."""

from __future__ import annotations

import json
import subprocess
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tests.conftest import free_port


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpReceiver:
    """Answers `fail_first` requests with `fail_code`, then 200; `dedup` drops repeated
    X-Hydra-Delivery keys (answers 200, counts them in `duplicates`)."""

    fail_first: int = 0
    fail_code: int = 503
    dedup: bool = False
    requests: list[Received] = field(default_factory=list)
    accepted: list[Received] = field(default_factory=list)
    duplicates: int = 0
    failing: bool = False  # answer every request with fail_code while set

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(size)
                code = receiver._answer(self.path, dict(self.headers.items()), body)
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            do_GET = do_POST

            def log_message(self, *args: Any) -> None:
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def _answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self._lock:
            failing = self.failing or len(self.requests) < self.fail_first
            code = self.fail_code if failing else 200
            got = Received(path, headers, body, code)
            self.requests.append(got)
            if code == 200:
                key = headers.get("X-Hydra-Delivery", "")
                if self.dedup and key in self._seen:
                    self.duplicates += 1
                else:
                    self._seen.add(key)
                    self.accepted.append(got)
            return code

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def self_signed(directory: Path, host: str = "localhost") -> tuple[Path, Path]:
    """A certificate for `host` (and 127.0.0.1) made by openssl, and its key."""
    cert, key = directory / "smtp.crt", directory / "smtp.key"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={host}",
            "-addext",
            f"subjectAltName=DNS:{host},IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
