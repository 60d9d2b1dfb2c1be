"""Liveness, readiness and Prometheus metrics (outside `/api/v1`, no token needed)."""

from __future__ import annotations

import gc

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from hydra_jobs.scheduler.loops.engine import Engine

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """The store and the broker answer; 503 otherwise."""
    engine: Engine = request.app.state.engine
    checks: dict[str, str] = {}
    for name, ping in (("store", engine.rt.store.ping), ("broker", engine.rt.broker.ping)):
        try:
            await ping()
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"error: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks, "leader": engine.is_leader},
        status_code=200 if ready else 503,
    )


@router.get("/metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Counters of this replica's engine, in the Prometheus text format."""
    engine: Engine = request.app.state.engine
    registry = CollectorRegistry()
    values = {
        "hydra_runs_dispatched": (
            "Pending runs the dispatcher moved to a queue (runs that wait for nothing are "
            "queued by their trigger and not counted here)",
            engine.dispatcher.dispatched,
        ),
        "hydra_slots_fired": ("Schedule slots that created a run", engine.ticker.fired),
        "hydra_slots_over_cap": (
            "Schedule slots skipped: their domain had created HYDRA_MAX_RUNS_PER_MINUTE runs",
            engine.ticker.over_cap,
        ),
        "hydra_runs_refused_over_cap": (
            "Runs asked for by API calls and refused: their domain had created "
            "HYDRA_MAX_RUNS_PER_MINUTE runs",
            engine.rt.refused_runs,
        ),
        "hydra_slot_attempts": (
            "Slots this replica tried to fire as leader",
            engine.ticker.attempts,
        ),
        "hydra_events_deferred": ("Worker events retried after overtaking", engine.ingest.deferred),
        "hydra_events_applied": ("Worker events written to the store", engine.ingest.applied),
        "hydra_events_dropped": ("Stale or illegal worker events refused", engine.ingest.dropped),
        "hydra_runs_lost": ("Runs declared lost by the reaper", engine.reaper.reaped),
        "hydra_is_leader": ("1 if this replica is the leader", int(engine.is_leader)),
        "hydra_notifications_recorded": (
            "Notifications this replica put in the outbox (to send, muted or suppressed)",
            engine.rt.emitter.recorded,
        ),
        "hydra_heartbeat_pings": (
            "Heartbeat pings sent (HYDRA_HEARTBEAT_URL)",
            engine.watcher.pings,
        ),
        "hydra_heartbeat_ping_failures": (
            "Heartbeat pings that failed",
            engine.watcher.ping_failures,
        ),
        "hydra_sse_listeners": ("Open live streams", len(engine.hub.listeners)),
        "hydra_sse_feeds": (
            "Groups of live streams that want the same events, fed together",
            len(engine.hub.feeds),
        ),
        "hydra_event_gaps": (
            "Times the live event subscription ended and streams were told to refetch",
            engine.hub.gaps,
        ),
        "hydra_stats_requests": ("Dashboard stats requests answered", engine.stats.requests),
        "hydra_stats_computed": (
            "Dashboard stats read from the store (shared by the requests of a second)",
            engine.stats.computed,
        ),
        "hydra_gc_frozen_objects": (
            "Objects built at start-up and kept out of garbage collections",
            gc.get_freeze_count(),
        ),
    }
    for name, (doc, value) in values.items():
        Gauge(name, doc, registry=registry).set(value)
    ended = Gauge(
        "hydra_runs_ended",
        "Runs whose end a worker reported to this replica, by final status",
        ["status"],
        registry=registry,
    )
    for status, count in engine.ingest.ended.items():
        ended.labels(status=status).set(count)
    deliverer = engine.deliverer
    for name, doc, counts in (
        ("hydra_notifications_sent", "Notifications delivered by this replica", deliverer.sent),
        (
            "hydra_notifications_failed",
            "Notifications given up (attempts used, or refused for good)",
            deliverer.failed,
        ),
        (
            "hydra_notification_attempts_failed",
            "Delivery attempts that did not go through (retried or given up)",
            deliverer.attempts_failed,
        ),
    ):
        gauge = Gauge(name, f"{doc}, by channel type", ["type"], registry=registry)
        for kind, count in counts.items():
            gauge.labels(type=kind).set(count)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
