"""Live updates over SSE: run status changes and output lines, resumable without loss or repeat."""

from __future__ import annotations

import threading
from typing import Any

from hydra_jobs.client import Client
from tests.conftest import ADMIN, Server

SLOW_LINES = "for i in $(seq 1 12); do echo line-$i; sleep 0.15; done"


def test_events_stream_carries_status_changes(server: Server) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    ready = threading.Event()

    def listen() -> None:
        with Client(server.url, ADMIN) as client:
            for event, _id, data in client.stream("/events", timeout=20):
                if event == "ready":
                    ready.set()
                    continue
                seen.append((event, data))
                if event == "run" and data["run"]["status"] == "succeeded":
                    return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert ready.wait(10)
    job = server.job("evented", "echo hi")
    server.client.trigger(job["id"])
    thread.join(15)
    statuses = [d["run"]["status"] for e, d in seen if e == "run"]
    assert statuses == ["queued", "running", "succeeded"], statuses
    assert any(e == "job" and d["job_id"] == job["id"] for e, d in seen)
    assert all(d["domain"] == "default" for _, d in seen)


def test_events_resume_with_last_event_id(server: Server) -> None:
    job = server.job("resume-events", "true")
    with Client(server.url, ADMIN) as client:
        stream = client.stream("/events")
        first_id = None
        for event, event_id, data in stream:
            if event == "ready":
                server.client.trigger(job["id"])
            if event == "run":
                assert data["run"]["status"] == "queued"
                first_id = event_id
                break
        stream.close()
    assert first_id is not None
    run_id = server.client.list_runs(job_id=job["id"])["items"][0]["id"]
    server.wait_run(run_id)
    with Client(server.url, ADMIN) as client:
        replay = []
        for event, _id, data in client.stream("/events", last_event_id=first_id):
            if event == "reset":
                raise AssertionError("resume within the replay buffer must not reset")
            if event == "run":
                replay.append(data["run"]["status"])
                if data["run"]["status"] == "succeeded":
                    break
    assert replay == ["running", "succeeded"]


def test_unknown_event_id_gets_reset(server: Server) -> None:
    with Client(server.url, ADMIN) as client:
        first = next(iter(client.stream("/events", last_event_id="deadbeef-12")))
    assert first[0] == "reset"


def test_log_stream_is_live_and_resumes_without_loss_or_repeat(server: Server) -> None:
    job = server.job("lines", SLOW_LINES)
    run = server.client.trigger(job["id"])
    received: list[str] = []
    last_id = None
    with Client(server.url, ADMIN) as client:
        for event, event_id, data in client.follow_logs(run["id"]):
            assert event == "log"
            received.append(data["data"])
            last_id = event_id
            if "line-4" in "".join(received):
                break  # drop the connection mid-run
    assert server.client.get_run(run["id"])["status"] in {"running", "queued"}, "not live"
    ended = None
    with Client(server.url, ADMIN) as client:
        for event, event_id, data in client.follow_logs(run["id"], last_event_id=last_id):
            if event == "end":
                ended = data
                break
            assert int(data["offset"]) == int(str(last_id)), "gap or overlap on resume"
            received.append(data["data"])
            last_id = event_id
    text = "".join(received)
    assert text == "".join(f"line-{i}\n" for i in range(1, 13))
    assert ended is not None and ended["status"] == "succeeded"


def test_log_stream_of_finished_run_replays_and_ends(server: Server) -> None:
    job = server.job("done-lines", "echo a; echo b")
    run = server.wait_run(server.client.trigger(job["id"])["id"])
    events = list(server.client.follow_logs(run["id"]))
    assert [e for e, _, _ in events] == ["log", "end"]
    assert events[0][2]["data"] == "a\nb\n"


def test_events_are_scoped_to_the_domain(server: Server) -> None:
    server.client.create_domain("other")
    other = Client(server.url, ADMIN, domain="other")
    got: list[str] = []
    ready = threading.Event()

    def listen() -> None:
        for event, _id, data in other.stream("/events", timeout=20):
            if event == "ready":
                ready.set()
            elif event in ("run", "job"):
                got.append(data["domain"])
                return

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert ready.wait(10)
    job = server.job("mine", "true")
    server.wait_run(server.client.trigger(job["id"])["id"])
    mine = Client(server.url, ADMIN, domain="other").create_job(
        {"name": "theirs", "executor": {"type": "shell", "script": "true"}}
    )
    thread.join(10)
    assert got == ["other"] and mine["domain"] == "other"
    other.close()
