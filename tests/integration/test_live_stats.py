"""Dashboard stats over HTTP with many viewers (issue 19): one store reading serves them all, and
a viewer that refetches after an event sees that event's change."""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

import httpx

from hydra_jobs.client import Client
from tests.conftest import ADMIN, Server

HEADERS = {"Authorization": f"Bearer {ADMIN}"}


def metric(server: Server, name: str) -> float:
    found = re.search(rf"^{name} (\S+)$", httpx.get(server.url + "/metrics").text, re.M)
    assert found, name
    return float(found.group(1))


def test_many_viewers_asking_at_once_cost_one_reading(server: Server) -> None:
    before = metric(server, "hydra_stats_computed")

    async def ask_all() -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=server.url, headers=HEADERS, timeout=30) as c:
            answers = await asyncio.gather(*(c.get("/api/v1/stats") for _ in range(40)))
        assert all(a.status_code == 200 for a in answers)
        return [a.json() for a in answers]

    answers = asyncio.run(ask_all())
    assert all(a == answers[0] for a in answers)
    # One reading; a second only if a worker heartbeat event came in between.
    assert metric(server, "hydra_stats_computed") - before <= 2
    assert metric(server, "hydra_stats_requests") >= 40


def test_stats_asked_after_an_event_include_its_change(server: Server) -> None:
    job = server.job("counted", "true")
    # Something cached, to be outdated by the run.
    httpx.get(server.url + "/api/v1/stats", headers=HEADERS)
    seen: list[dict[str, Any]] = []
    ready = threading.Event()

    def listen() -> None:
        with Client(server.url, ADMIN) as client:
            for event, _id, data in client.stream("/events", timeout=20):
                if event == "ready":
                    ready.set()
                elif event == "run" and data["run"]["status"] == "succeeded":
                    # Asked the moment the event is here: the answer must already count it.
                    stats = httpx.get(server.url + "/api/v1/stats", headers=HEADERS)
                    seen.append(stats.json())
                    return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert ready.wait(10)
    server.client.trigger(job["id"])
    thread.join(20)
    assert seen and seen[0]["counts"].get("succeeded") == 1, seen
