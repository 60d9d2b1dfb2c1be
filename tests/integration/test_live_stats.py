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


def test_streams_of_one_domain_share_a_feed_and_get_the_same_events(server: Server) -> None:
    """Many open dashboards of a domain cost the hub one match and one encoding per event."""
    server.client.create_domain("feeds-other")
    job = server.job("fed", "true")
    got: dict[str, list[tuple[str, str]]] = {}
    ready = [threading.Event() for _ in range(4)]
    streams = [("a", "default", None), ("b", "default", None), ("c", "feeds-other", None)]
    streams.append(("logs", "default", "log"))

    def listen(n: int, name: str, domain: str, types: str | None) -> None:
        seen = got.setdefault(name, [])
        path = f"/events?types={types}" if types else "/events"
        with Client(server.url, ADMIN, domain=domain) as client:
            for event, event_id, data in client.stream(path, timeout=20):
                if event == "ready":
                    ready[n].set()
                elif event == "run":
                    seen.append((event_id, data["run"]["status"]))
                    if data["run"]["status"] == "succeeded":
                        return
                elif name in ("c", "logs"):
                    return

    threads = [
        threading.Thread(target=listen, args=(n, *s), daemon=True) for n, s in enumerate(streams)
    ]
    for thread in threads:
        thread.start()
    assert all(r.wait(10) for r in ready)
    assert metric(server, "hydra_sse_feeds") == 3  # (default, run+job+worker), other, logs
    server.wait_run(server.client.trigger(job["id"])["id"])
    for thread in threads[:2]:
        thread.join(15)
    assert [s for _, s in got["a"]] == ["queued", "running", "succeeded"]
    assert got["a"] == got["b"]  # the same events, under the same ids
    assert got["c"] == []
