"""Local stand-ins for the AI providers: HTTP servers on 127.0.0.1 that speak their wire formats.

`OpenAIStandIn` answers `POST /v1/chat/completions`, `GeminiStandIn` answers
`POST /v1beta/models/{model}:generateContent`, the way the real services do (the official SDKs
talk to them unchanged). Every request is recorded (path, headers, raw body) so a test can search
what left the server. Each answer comes from a script of `Reply`s, then from `default`.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.conftest import free_port


@dataclass
class Reply:
    """One scripted answer: the model's text (as the provider wraps it), or an error."""

    text: str | None = None
    status: int = 200
    error: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    input_tokens: int = 120
    output_tokens: int = 40


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class StandIn:
    model = "stand-in-model"

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self.script: deque[Reply] = deque()
        self.default: Callable[[Recorded], Reply] = lambda _: Reply(text="{}")
        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> StandIn:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def bodies(self) -> str:
        return "\n".join(r.body for r in self.requests)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                recorded = Recorded(
                    self.path, dict(self.headers.items()), self.rfile.read(length).decode()
                )
                standin.requests.append(recorded)
                reply = standin.script.popleft() if standin.script else standin.default(recorded)
                if reply.delay:
                    time.sleep(reply.delay)
                status, payload = standin.wire(reply)
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test)

        return Handler

    def wire(self, reply: Reply) -> tuple[int, Any]:
        raise NotImplementedError


class OpenAIStandIn(StandIn):
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def wire(self, reply: Reply) -> tuple[int, Any]:
        if reply.status != 200:
            error = {"message": reply.error, "type": "invalid_request_error", "code": None}
            return reply.status, {"error": error}
        return 200, {
            "id": "chatcmpl-standin",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": reply.text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": reply.input_tokens,
                "completion_tokens": reply.output_tokens,
                "total_tokens": reply.input_tokens + reply.output_tokens,
            },
        }


class GeminiStandIn(StandIn):
    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def wire(self, reply: Reply) -> tuple[int, Any]:
        if reply.status != 200:
            status = {400: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED"}.get(reply.status, "X")
            return reply.status, {
                "error": {"code": reply.status, "message": reply.error, "status": status}
            }
        return 200, {
            "candidates": [
                {
                    "content": {"parts": [{"text": reply.text}], "role": "model"},
                    "finishReason": "STOP",
                    "index": 0,
                }
            ],
            "usageMetadata": {
                "promptTokenCount": reply.input_tokens,
                "candidatesTokenCount": reply.output_tokens,
                "totalTokenCount": reply.input_tokens + reply.output_tokens,
            },
            "modelVersion": self.model,
        }


def prompt_of(recorded: Recorded) -> str:
    """The user prompt of a recorded request, whichever provider it went to."""
    body = recorded.json
    if "messages" in body:
        return str(body["messages"][-1]["content"])
    return str(body["contents"][0]["parts"][0]["text"])
