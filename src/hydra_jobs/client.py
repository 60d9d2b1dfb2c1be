"""The Python SDK: a small typed wrapper over the REST API, used by the CLI, examples and tests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx

from hydra_jobs.errors import HydraError
from hydra_jobs.status import TERMINAL

DEFAULT_TIMEOUT_SECONDS = 30.0
AI_TIMEOUT_SECONDS = 600.0  # a model call with its retries and repairs may take minutes
LOG_WAIT_SECONDS = 10.0  # an ended run's output still being stored, at most
LOG_POLL_SECONDS = 0.2
TERMINAL_STATUSES = frozenset(s.value for s in TERMINAL)


class ApiError(HydraError):
    """The API refused the request."""

    def __init__(self, status_code: int, detail: Any) -> None:
        self.status_code = status_code
        self.detail = detail
        super().__init__(f"HTTP {status_code}: {format_detail(detail)}")


def format_detail(detail: Any) -> str:
    """Render FastAPI error details as lines a person can act on."""
    if isinstance(detail, list):
        lines = []
        for item in detail:
            loc = ".".join(str(p) for p in item.get("loc", []) if p != "body")
            # Pydantic prefixes the messages of our own validators; people need only the message.
            msg = str(item.get("msg")).removeprefix("Value error, ")
            lines.append(f"{loc}: {msg}" if loc else msg)
        return "; ".join(lines)
    return str(detail)


class Client:
    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        domain: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if domain:
            headers["X-Hydra-Domain"] = domain
        self.base = url.rstrip("/")
        self.token_source: str | None = None  # where the token came from, said with a 401
        self.http = httpx.Client(base_url=self.base + "/api/v1", headers=headers, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail")
            except ValueError:
                detail = response.text
            raise ApiError(response.status_code, detail)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    # jobs
    def create_job(self, spec: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/jobs", json=spec))

    def replace_job(self, job_id: str, spec: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("PUT", f"/jobs/{job_id}", json=spec))

    def get_job(self, job_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/jobs/{job_id}"))

    def list_jobs(
        self, limit: int = 50, cursor: str | None = None, search: str | None = None
    ) -> dict[str, Any]:
        params = {
            k: v
            for k, v in {"limit": limit, "cursor": cursor, "search": search}.items()
            if v is not None
        }
        return dict(self._call("GET", "/jobs", params=params))

    def find_job(self, name: str) -> dict[str, Any] | None:
        cursor = None
        while True:
            page = self.list_jobs(limit=500, cursor=cursor, search=name)
            for job in page["items"]:
                if job["name"] == name:
                    return dict(job)
            cursor = page["next_cursor"]
            if not cursor:
                return None

    def delete_job(self, job_id: str) -> None:
        self._call("DELETE", f"/jobs/{job_id}")

    def job_versions(
        self, job_id: str, limit: int = 50, cursor: str | None = None
    ) -> dict[str, Any]:
        """A page of the job's history, newest first (no specs: see `job_version`)."""
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        return dict(self._call("GET", f"/jobs/{job_id}/versions", params=params))

    def job_version(self, job_id: str, version: int) -> dict[str, Any]:
        return dict(self._call("GET", f"/jobs/{job_id}/versions/{version}"))

    def restore_job_version(self, job_id: str, version: int) -> dict[str, Any]:
        """Make that version's spec the job's again (a new version)."""
        return dict(self._call("POST", f"/jobs/{job_id}/versions/{version}/restore"))

    def export_jobs(self) -> dict[str, Any]:
        """The domain's jobs as `{"version", "domain", "jobs": [spec, ...]}`, sorted by name."""
        return dict(self._call("GET", "/jobs/export"))

    def import_jobs(
        self, jobs: list[dict[str, Any]], *, prune: bool = False, dry_run: bool = True
    ) -> dict[str, Any]:
        """The plan of making the domain hold `jobs` (create, update, unchanged, delete with
        `prune`); applied when `dry_run` is false, and then only if every spec is valid."""
        body = {"jobs": jobs, "prune": prune, "dry_run": dry_run}
        return dict(self._call("POST", "/jobs/import", json=body))

    def validate(self, spec: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/jobs/validate", json=spec))

    def trigger(
        self, job_id: str, params: dict[str, str] | None = None, trigger: str = "api"
    ) -> dict[str, Any]:
        return dict(
            self._call(
                "POST", f"/jobs/{job_id}/run", json={"params": params or {}, "trigger": trigger}
            )
        )

    def trigger_batch(
        self, job_id: str, params: list[dict[str, str]], trigger: str = "api"
    ) -> list[dict[str, Any]]:
        body = {"runs": [{"params": p} for p in params], "trigger": trigger}
        return list(self._call("POST", f"/jobs/{job_id}/runs/batch", json=body)["items"])

    def pause(self, job_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/jobs/{job_id}/pause"))

    def resume(self, job_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/jobs/{job_id}/resume"))

    # runs
    def list_runs(self, **filters: Any) -> dict[str, Any]:
        params = {k: v for k, v in filters.items() if v is not None}
        return dict(self._call("GET", "/runs", params=params))

    def get_run(self, run_id: str) -> dict[str, Any]:
        return dict(self._call("GET", f"/runs/{run_id}"))

    def logs(self, run_id: str, offset: int = 0) -> dict[str, Any]:
        """One page of stored output from `offset` (`complete` once an ended run is all in)."""
        return dict(self._call("GET", f"/runs/{run_id}/logs", params={"offset": offset}))

    def read_log(self, run_id: str, wait_seconds: float = LOG_WAIT_SECONDS) -> LogReader:
        """A run's stored output, page by page (iterate it); see `LogReader`."""
        return LogReader(self, run_id, wait_seconds)

    def full_log(self, run_id: str, wait_seconds: float = LOG_WAIT_SECONDS) -> str:
        """All of a run's stored output; for an ended run, all of it once it is stored."""
        return "".join(self.read_log(run_id, wait_seconds))

    def cancel(self, run_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/runs/{run_id}/cancel"))

    def retry(self, run_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/runs/{run_id}/retry"))

    def analyze(
        self, run_id: str, *, provider: str | None = None, force: bool = False
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"force": force}
        if provider is not None:
            body["provider"] = provider
        path = f"/runs/{run_id}/analyze"
        return dict(self._call("POST", path, json=body, timeout=AI_TIMEOUT_SECONDS))

    def generate(
        self,
        prompt: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        timezone: str | None = None,
    ) -> dict[str, Any]:
        """A draft job from one sentence (never saved)."""
        body = {"prompt": prompt, "provider": provider, "model": model, "timezone": timezone}
        sent = {k: v for k, v in body.items() if v is not None}
        return dict(self._call("POST", "/ai/generate", json=sent, timeout=AI_TIMEOUT_SECONDS))

    def ai_providers(self) -> dict[str, Any]:
        return dict(self._call("GET", "/ai/providers"))

    def analysis(self, run_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._call("GET", f"/runs/{run_id}/analysis")
        return found

    def workers(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/workers")["items"])

    def drain_worker(self, worker_id: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/workers/{worker_id}/drain"))

    # notifications --------------------------------------------------------------------------

    def create_channel(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("POST", "/channels", json=body))

    def list_channels(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/channels")["items"])

    def delete_channel(self, name: str) -> None:
        self._call("DELETE", f"/channels/{name}")

    def test_channel(self, name: str) -> dict[str, Any]:
        return dict(self._call("POST", f"/channels/{name}/test"))

    def deliveries(
        self, *, channel: str | None = None, limit: int = 50, **filters: str
    ) -> list[dict[str, Any]]:
        """The delivery log of a channel, or the alert history filtered by job_id / run_id."""
        params: dict[str, Any] = {"limit": limit, **filters}
        if channel is not None:
            return list(
                self._call("GET", f"/channels/{channel}/deliveries", params=params)["items"]
            )
        return list(self._call("GET", "/deliveries", params=params)["items"])

    def notify_rules(self) -> dict[str, Any]:
        return dict(self._call("GET", "/notify-rules"))

    def set_notify_rules(self, body: dict[str, Any]) -> dict[str, Any]:
        return dict(self._call("PUT", "/notify-rules", json=body))

    def snooze(self, job_id: str, until: str, reason: str | None = None) -> dict[str, Any]:
        body = {"until": until, "reason": reason}
        return dict(self._call("PUT", f"/jobs/{job_id}/snooze", json=body))

    def unsnooze(self, job_id: str) -> None:
        self._call("DELETE", f"/jobs/{job_id}/snooze")

    def snoozes(self) -> list[dict[str, Any]]:
        return list(self._call("GET", "/snoozes")["items"])

    # domains, tokens, audit ---------------------------------------------------------------

    def me(self) -> dict[str, Any]:
        result: dict[str, Any] = self._call("GET", "/me")
        return result

    def create_domain(self, name: str, description: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", "/domains", json={"name": name, "description": description}
        )
        return result

    def list_domains(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", "/domains")["items"]
        return result

    def delete_domain(self, name: str, *, force: bool = False) -> None:
        self._call("DELETE", f"/domains/{name}", params={"force": str(force).lower()})

    def create_token(self, domain: str, name: str, role: str) -> dict[str, Any]:
        """A token of `domain` with `role` (viewer, operator, editor, owner): no default."""
        result: dict[str, Any] = self._call(
            "POST", f"/domains/{domain}/tokens", json={"name": name, "role": role}
        )
        return result

    def set_token_role(self, domain: str, token_id: str, role: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "PATCH", f"/domains/{domain}/tokens/{token_id}", json={"role": role}
        )
        return result

    def list_tokens(self, domain: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._call("GET", f"/domains/{domain}/tokens")["items"]
        return result

    def revoke_token(self, domain: str, token_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("DELETE", f"/domains/{domain}/tokens/{token_id}")
        return result

    def audit(
        self, *, limit: int = 50, cursor: str | None = None, **filters: str | None
    ) -> dict[str, Any]:
        """A page of the audit log; `filters`: actor, action, object_type, object_id, since,
        until (ISO 8601), each exact (see `GET /audit`)."""
        params: dict[str, Any] = {"limit": limit}
        params.update({k: v for k, v in filters.items() if v is not None})
        if cursor:
            params["cursor"] = cursor
        result: dict[str, Any] = self._call("GET", "/audit", params=params)
        return result

    def stream(
        self, path: str, last_event_id: str | None = None, timeout: float | None = None
    ) -> Iterator[tuple[str, str | None, Any]]:
        """Yield (event, id, data) from an SSE endpoint until the server ends the stream."""
        headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
        with self.http.stream(
            "GET", path, headers=headers, timeout=httpx.Timeout(timeout, connect=10.0)
        ) as response:
            if response.status_code >= 400:
                response.read()
                raise ApiError(response.status_code, response.json().get("detail"))
            yield from parse_sse(response.iter_lines())

    def follow_logs(
        self, run_id: str, last_event_id: str | None = None
    ) -> Iterator[tuple[str, str | None, Any]]:
        return self.stream(f"/runs/{run_id}/logs/stream", last_event_id)


class LogReader:
    """Iterates a run's stored output page by page.

    With several scheduler replicas, a run's end can be stored before the last of its output
    (each replica applies the events it read): for an ended run whose log is not `complete`
    yet, the reader waits up to `wait_seconds` for the rest. A running run's output ends at
    what is stored now. `complete` says afterwards whether an ended run's output was all read.
    """

    def __init__(self, client: Client, run_id: str, wait_seconds: float) -> None:
        self.client = client
        self.run_id = run_id
        self.wait_seconds = wait_seconds
        self.complete = False

    def __iter__(self) -> Iterator[str]:
        offset = 0
        deadline = time.monotonic() + self.wait_seconds
        while True:
            page = self.client.logs(self.run_id, offset)
            offset = page["next_offset"]
            if page["data"]:
                yield page["data"]
            if page["complete"]:
                self.complete = True
                return
            if page["data"]:
                continue
            ended = self.client.get_run(self.run_id)["status"] in TERMINAL_STATUSES
            if not ended or time.monotonic() >= deadline:
                return
            time.sleep(LOG_POLL_SECONDS)


def parse_sse(lines: Iterator[str]) -> Iterator[tuple[str, str | None, Any]]:
    event: str = "message"
    event_id: str | None = None
    data: list[str] = []
    for line in lines:
        if not line:
            if data:
                yield event, event_id, json.loads("\n".join(data))
            event, event_id, data = "message", None, []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "id":
                event_id = value
            elif name == "data":
                data.append(value)
