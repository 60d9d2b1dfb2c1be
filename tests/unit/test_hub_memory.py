"""The live-event hub holds a bounded amount of log text (issue 13 §4), without a broker."""

from __future__ import annotations

from typing import Any, cast

from hydra_jobs.broker.base import Broker
from hydra_jobs.events import LogEvent
from hydra_jobs.scheduler.hub import LISTENER_BUFFER_BYTES, EventHub

CHUNK = "x" * 64 * 1024  # a log event at its largest


def log_event(i: int) -> LogEvent:
    return LogEvent(run_id="r", offset=i * len(CHUNK), data=CHUNK)


def hub(**kwargs: Any) -> EventHub:
    return EventHub(cast(Broker, None), **kwargs)


def test_the_replay_buffer_is_bounded_in_bytes_and_still_resumes() -> None:
    events = hub(replay_bytes=1024 * 1024)
    for i in range(1000):  # 64 MB of output
        events._dispatch(log_event(i))
    assert events.ring_bytes <= 1024 * 1024 and len(events.ring) == 15
    assert sum(len(e.data) for _, e, _, _ in events.ring) <= 1024 * 1024
    # A client that saw event 990 resumes with the 10 after it; one further behind is reset.
    listener, resumed = events.listen(lambda e: True, f"{events.epoch}-990")
    assert resumed and listener.queue.qsize() == 10
    _, resumed = events.listen(lambda e: True, f"{events.epoch}-900")
    assert not resumed


def test_old_events_expire_even_when_no_new_ones_come() -> None:
    events = hub(replay_seconds=60.0)
    for i in range(10):
        events._dispatch(log_event(i))
    newest = events.ring[-1][3]
    events.expire(newest + 30.0)
    assert len(events.ring) == 10
    events.expire(newest + 61.0)
    assert not events.ring and events.ring_bytes == 0


async def test_a_slow_listener_holds_a_bounded_number_of_bytes() -> None:
    events = hub()
    listener, _ = events.listen(lambda e: True)
    for i in range(1000):
        events._dispatch(log_event(i))
    assert listener.overflowed and listener.queued_bytes <= LISTENER_BUFFER_BYTES
    received = 0
    while (item := await listener.get()) is not None:
        received += len(item[1].data)  # type: ignore[union-attr]
    assert 0 < received <= LISTENER_BUFFER_BYTES and listener.queued_bytes == 0


def test_many_slow_listeners_together_hold_a_bounded_number_of_bytes() -> None:
    events = hub(listeners_bytes=4 * 1024 * 1024)
    slow = [events.listen(lambda e: True)[0] for _ in range(50)]
    for i in range(100):
        events._dispatch(log_event(i))
    assert events.listener_bytes <= 4 * 1024 * 1024 + 50 * (len(CHUNK) + 1024)
    assert sum(listener.overflowed for listener in slow) >= 40
    for listener in slow:
        listener.close()
    assert events.listener_bytes == 0
