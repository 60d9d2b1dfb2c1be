"""A cron job every second, on the real clock, fires each second: no duplicate, no gap."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from itertools import pairwise

from tests.conftest import Server


def test_every_second_for_ten_seconds(server: Server) -> None:
    job = server.job("tick", "true", schedule={"cron": "* * * * * *"})
    time.sleep(10.5)  # the property is about wall time passing: this test observes 10 s of it
    server.client.pause(job["id"])
    runs = server.client.list_runs(job_id=job["id"], limit=500)["items"]
    slots = sorted(datetime.fromisoformat(r["scheduled_for"]) for r in runs)
    assert len(slots) == len(set(slots)), "a slot fired twice"
    assert len(slots) >= 10, f"only {len(slots)} slots in 10.5 s"
    for earlier, later in pairwise(slots):
        assert later - earlier == timedelta(seconds=1), f"gap between {earlier} and {later}"
    assert all(s.microsecond == 0 for s in slots)
    assert all(r["status"] in {"succeeded", "pending", "queued", "running"} for r in runs)
    lateness = [
        (
            datetime.fromisoformat(r["created_at"]) - datetime.fromisoformat(r["scheduled_for"])
        ).total_seconds()
        for r in runs
    ]
    assert max(lateness) < 0.5, f"slots fired late: {max(lateness):.3f}s"
