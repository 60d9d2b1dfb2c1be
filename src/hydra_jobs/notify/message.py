"""What a notification says (pure): the JSON payload stored with the delivery, and its renderings
for Slack and email.

The payload is built once, when the event is put in the outbox, so every retry sends the same
message. It names the job and the run and links to the run's page; it never carries the job's
environment, its parameters (either may hold secrets) or any channel's secret (N3).
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from typing import Any

from hydra_jobs.alerts import ERROR_CHARS, NotifyEvent
from hydra_jobs.models import Job, Run

TITLES = {
    NotifyEvent.FAILED: "failed",
    NotifyEvent.TIMED_OUT: "timed out",
    NotifyEvent.LOST: "was lost",
    NotifyEvent.RETRIES_EXHAUSTED: "used all its retries",
    NotifyEvent.SUCCEEDED: "succeeded",
    NotifyEvent.RECOVERED: "recovered",
    NotifyEvent.MISSED: "missed a slot",
    NotifyEvent.NOT_STARTED: "did not start on time",
    NotifyEvent.RUNNING_TOO_LONG: "is running too long",
    NotifyEvent.TOO_FAST: "ended too fast",
    NotifyEvent.TEST: "test notification",
}
GOOD = {NotifyEvent.SUCCEEDED, NotifyEvent.RECOVERED, NotifyEvent.TEST}


def run_url(public_url: str, run_id: str) -> str:
    return f"{public_url.rstrip('/')}/runs/{run_id}"


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def run_payload(
    event: NotifyEvent, run: Run, summary: str, dedup_key: str, public_url: str, now: datetime
) -> dict[str, Any]:
    error = run.error[:ERROR_CHARS] if run.error else None
    return {
        "event": event.value,
        "title": f"{run.job_name} {TITLES[event]}",
        "summary": summary,
        "dedup_key": dedup_key,
        "domain": run.domain,
        "job": {"id": run.job_id, "name": run.job_name},
        "run": {
            "id": run.id,
            "status": run.status.value,
            "attempt": run.attempt,
            "trigger": run.trigger.value,
            "scheduled_for": _time(run.scheduled_for),
            "started_at": _time(run.started_at),
            "finished_at": _time(run.finished_at),
            "exit_code": run.exit_code,
            "error": error,
            "worker_id": run.worker_id,
        },
        "url": run_url(public_url, run.id),
        "at": now.isoformat(),
    }


def test_payload(
    domain: str, channel: str, dedup_key: str, public_url: str, now: datetime
) -> dict[str, Any]:
    return {
        "event": NotifyEvent.TEST.value,
        "title": f"Hydra Jobs test notification for channel '{channel}'",
        "summary": "If you can read this, the channel works.",
        "dedup_key": dedup_key,
        "domain": domain,
        "job": None,
        "run": None,
        "url": public_url.rstrip("/") + "/channels",
        "at": now.isoformat(),
    }


def job_title(job: Job, event: NotifyEvent) -> str:
    return f"{job.name} {TITLES[event]}"


def _lines(payload: dict[str, Any]) -> list[str]:
    lines = [str(payload.get("summary", ""))]
    run = payload.get("run") or {}
    if run:
        lines.append(f"Run {run.get('id')} (attempt {run.get('attempt')}): {run.get('status')}")
        if run.get("exit_code") is not None:
            lines.append(f"Exit code: {run['exit_code']}")
        if run.get("error"):
            lines.append(f"Error: {run['error']}")
    lines.append(f"Domain: {payload.get('domain')}")
    return lines


def slack_body(payload: dict[str, Any]) -> dict[str, Any]:
    """A Slack incoming-webhook message: a header line, the facts, a link to the run."""
    event = NotifyEvent(payload["event"])
    icon = ":white_check_mark:" if event in GOOD else ":rotating_light:"
    title = f"{icon} {_escape(str(payload.get('title', '')))}"
    facts = "\n".join(_escape(line) for line in _lines(payload))
    link = f"<{payload['url']}|Open in Hydra Jobs>"
    return {
        "text": f"{title}: {_escape(str(payload.get('summary', '')))} {link}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"*{title}*\n{facts}"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": link}]},
        ],
    }


def _escape(text: str) -> str:
    """Slack's three control characters, so a job's error cannot forge a link or a mention."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def email_message(payload: dict[str, Any], sender: str, to: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[Hydra Jobs] {payload.get('title', '')}"
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["X-Hydra-Delivery"] = str(payload.get("dedup_key", ""))
    body = [*_lines(payload), "", f"Open the run: {payload['url']}", ""]
    message.set_content("\n".join(body))
    return message
