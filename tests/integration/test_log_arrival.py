"""An ended run's output, when its end reaches the store first.

With several scheduler replicas each applies the worker events it reads, so a run's `finished`
can be stored before its output (issue 12's `succeeded` with an empty log). A real server with
the embedded worker; the in-process broker holds the run's output back until the test lets it go.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from hydra_jobs.broker.memory import MemoryBroker
from hydra_jobs.events import Output, WorkerEvent
from tests.conftest import Server, wait_for


class HeldOutput:
    """Keeps `output` events out of the broker until `release`, passing every other event."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.held: list[WorkerEvent] = []
        self.lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.broker: MemoryBroker | None = None
        self.emit = MemoryBroker.emit

        async def emit(broker: MemoryBroker, events: Sequence[WorkerEvent]) -> None:
            self.loop, self.broker = asyncio.get_running_loop(), broker
            with self.lock:
                self.held += [e for e in events if isinstance(e, Output)]
            await self.emit(broker, [e for e in events if not isinstance(e, Output)])

        monkeypatch.setattr(MemoryBroker, "emit", emit)

    def release(self) -> None:
        assert self.loop is not None and self.broker is not None
        with self.lock:
            held, self.held = self.held, []
        asyncio.run_coroutine_threadsafe(self.emit(self.broker, held), self.loop).result(10)


def test_an_ended_runs_log_is_incomplete_until_its_output_is_stored(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = HeldOutput(monkeypatch)
    job = server.job("late-output", "echo first; echo second")
    run = server.client.trigger(job["id"])
    assert server.wait_run(run["id"])["status"] == "succeeded"

    page = server.client.logs(run["id"])
    assert (page["data"], page["complete"]) == ("", False)  # not taken for an empty log
    reader = server.client.read_log(run["id"], wait_seconds=0.5)
    assert "".join(reader) == "" and not reader.complete

    output.release()
    assert server.client.full_log(run["id"]) == "first\nsecond\n"
    page = server.client.logs(run["id"])
    assert (page["data"], page["complete"]) == ("first\nsecond\n", True)


def test_the_log_stream_waits_for_an_ended_runs_last_output(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = HeldOutput(monkeypatch)
    job = server.job("late-stream", "echo streamed")
    run = server.client.trigger(job["id"])
    assert server.wait_run(run["id"])["status"] == "succeeded"

    seen: list[tuple[str, Any]] = []

    def follow() -> None:
        seen.extend((event, data) for event, _, data in server.client.follow_logs(run["id"]))

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    follower.join(1.0)
    assert follower.is_alive() and not seen  # no `end` while output is missing
    output.release()
    follower.join(10)
    assert not follower.is_alive()
    assert [e for e, _ in seen] == ["log", "end"] and seen[0][1]["data"] == "streamed\n"
    wait_for(lambda: server.client.logs(run["id"])["complete"], 5, message="log complete")
