"""Stopping `up` with live streams open (a UI tab, `logs -f`): the streams end at once, the
running job is drained, and its end is stored (issue 17: the stop waited for the streams until
it was killed, and the run stayed `running` until the next start declared it lost)."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from hydra_jobs.client import Client
from tests.conftest import ADMIN, wait_for
from tests.procs import UpProcess

STOP_SECONDS = 10.0  # drain grace 1 s + kill grace 1 s here; far below the 15 s dev-down waits


def open_stream(url: str, path: str, seen: list[str]) -> threading.Thread:
    """An SSE client in a thread that records the event names it reads until the stream ends."""

    def read() -> None:
        headers = {"Authorization": f"Bearer {ADMIN}"}
        with httpx.stream("GET", url + path, headers=headers, timeout=None) as response:
            for line in response.iter_lines():
                if line.startswith("event:"):
                    seen.append(line.split(":", 1)[1].strip())
        seen.append("<closed>")

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def test_stopping_up_ends_open_streams_and_stores_the_running_jobs_end(tmp_path: Path) -> None:
    up = UpProcess(tmp_path / "data").start()
    try:
        with Client(up.url, ADMIN) as client:
            job = client.create_job(
                {"name": "long", "executor": {"type": "shell", "script": "echo on; sleep 60"}}
            )
            run = client.trigger(job["id"])
            wait_for(lambda: "on" in client.logs(run["id"])["data"], 15, message="job running")
            events: list[str] = []
            logs: list[str] = []
            streams = [
                open_stream(up.url, "/api/v1/events", events),
                open_stream(up.url, f"/api/v1/runs/{run['id']}/logs/stream", logs),
            ]
            wait_for(lambda: "ready" in events and "log" in logs, 10, message="streams open")

        assert up.proc is not None
        stopped_at = time.monotonic()
        up.proc.send_signal(signal.SIGTERM)
        up.proc.wait(STOP_SECONDS + 5)
        took = time.monotonic() - stopped_at
        assert took < STOP_SECONDS, f"up took {took:.1f} s to stop with streams open"
        for stream in streams:
            stream.join(5)
            assert not stream.is_alive()
        assert events[-1] == "<closed>" and logs[-1] == "<closed>"
    finally:
        up.stop()

    up = UpProcess(tmp_path / "data", port=up.port).start()  # the store, as the stop left it
    try:
        with Client(up.url, ADMIN) as client:
            final: dict[str, Any] = client.get_run(run["id"])
        # Ended by the drain before the stop, with its worker's word for it: not a `running` the
        # restart had to declare lost for a lease that stopped being renewed.
        assert final["status"] == "lost" and final["exit_code"] is not None, final
        assert final["error"] == "stopped by its worker, which shut down before the run finished"
    finally:
        up.stop()
