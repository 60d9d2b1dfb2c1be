"""The evidence bundle: what the server knows about a failed run, built by the server, redacted.

An analyser (the rules or a model) sees only this: the job spec with env values and secret-looking
params masked, how the run ended, its duration against the job's usual one, its resource usage, the
head and tail of its log within a budget (with line numbers, so evidence can point into the log),
and what differs from the job's last successful run. The log window is pure (`LogWindow`); reading
the store is `build_bundle`'s.
"""

from __future__ import annotations

import signal
import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from hydra_jobs.models import Run
from hydra_jobs.scheduler.ai.heuristics import Facts, LogLine
from hydra_jobs.scheduler.ai.redact import MASK, Redactor, looks_secret
from hydra_jobs.status import RunStatus
from hydra_jobs.store.base import RunFilter, Store

HEAD_LINES = 40
HEAD_CHARS = 6_000
TAIL_LINES = 160
TAIL_CHARS = 24_000
LINE_CHARS = 500  # a longer line is cut: one minified blob must not eat the budget
READ_PAGE_CHARS = 256 * 1024
MAX_LOG_READ_CHARS = 64 * 1024 * 1024  # past this the middle is skipped unread (the log is capped)
RECENT_SUCCESSES = 20  # successful runs the usual duration is the median of


@dataclass(slots=True)
class LogWindow:
    """The first and last lines of a log fed in pieces, each redacted, with its line number."""

    redactor: Redactor = field(default_factory=Redactor)
    head: list[LogLine] = field(default_factory=list)
    tail: deque[LogLine] = field(default_factory=deque)
    total: int = 0
    _head_chars: int = 0
    _tail_chars: int = 0
    _partial: str = ""
    _in_key: bool = False  # inside a private key block (redact.Redactor.line)

    def feed(self, text: str) -> None:
        text = self._partial + text
        *complete, self._partial = text.split("\n")
        for line in complete:
            self._add(line)

    def finish(self) -> LogWindow:
        if self._partial:
            self._add(self._partial)
            self._partial = ""
        return self

    def _add(self, line: str) -> None:
        self.total += 1
        line, self._in_key = self.redactor.line(line.rstrip("\r"), self._in_key)
        if len(line) > LINE_CHARS:
            line = line[:LINE_CHARS] + " [... line cut]"
        if len(self.head) < HEAD_LINES and self._head_chars + len(line) <= HEAD_CHARS:
            self.head.append((self.total, line))
            self._head_chars += len(line)
            return
        self.tail.append((self.total, line))
        self._tail_chars += len(line)
        while len(self.tail) > TAIL_LINES or self._tail_chars > TAIL_CHARS:
            self._tail_chars -= len(self.tail.popleft()[1])

    @property
    def lines(self) -> list[LogLine]:
        return [*self.head, *self.tail]

    @property
    def omitted(self) -> int:
        return self.total - len(self.head) - len(self.tail)


def run_redactor(run: Run, extra: tuple[str, ...] = ()) -> Redactor:
    """Masks every env value of the run's job, its secret-looking params, and `extra` (tokens)."""
    spec = run.spec
    values: list[str | None] = [*spec.get("env", {}).values(), *extra]
    for name, param in spec.get("params", {}).items():
        if looks_secret(name):
            values.append((param or {}).get("default"))
    values.extend(v for k, v in run.params.items() if looks_secret(k))
    return Redactor.of(values)


def redact_params(params: dict[str, str], redactor: Redactor) -> dict[str, str]:
    return {k: MASK if looks_secret(k) else redactor.text(v) for k, v in params.items()}


def redact_spec(spec: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    """The spec as an analyser may see it: env names kept, every env value masked."""
    out = dict(spec)
    out["env"] = dict.fromkeys(spec.get("env", {}), MASK)
    params = {}
    for name, param in (spec.get("params") or {}).items():
        param = dict(param or {})
        if param.get("default") is not None:
            param["default"] = MASK if looks_secret(name) else redactor.text(param["default"])
        params[name] = param
    out["params"] = params
    for key in ("description", "name"):
        if isinstance(out.get(key), str):
            out[key] = redactor.text(out[key])
    if isinstance(spec.get("executor"), dict):
        executor = dict(spec["executor"])
        for key in ("script", "interpreter"):
            if isinstance(executor.get(key), str):
                executor[key] = redactor.text(executor[key])
        out["executor"] = executor
    if isinstance(spec.get("source"), dict):
        source = dict(spec["source"])
        source["url"] = redactor.text(str(source.get("url", "")))
        out["source"] = source
    return out


def duration(run: Run) -> float | None:
    if run.started_at is None or run.finished_at is None:
        return None
    return (run.finished_at - run.started_at).total_seconds()


def signal_name(exit_code: int | None) -> str | None:
    if exit_code is None or exit_code >= 0:
        return None
    try:
        return signal.Signals(-exit_code).name
    except ValueError:
        return str(-exit_code)


def diff_from_success(run: Run, success: Run, redactor: Redactor) -> dict[str, Any]:
    """What changed between the job's last successful run and this one (secret values never)."""
    changes: dict[str, Any] = {
        "run_id": success.id,
        "created_at": success.created_at.isoformat(),
        "duration_seconds": duration(success),
    }
    params = {
        name: {
            "then": MASK if looks_secret(name) else redactor.text(success.params.get(name, "")),
            "now": MASK if looks_secret(name) else redactor.text(run.params.get(name, "")),
        }
        for name in sorted(set(run.params) | set(success.params))
        if run.params.get(name) != success.params.get(name)
    }
    if params:
        changes["params_changed"] = params
    env_then, env_now = success.spec.get("env", {}), run.spec.get("env", {})
    changed_env = sorted(k for k in env_now if env_then.get(k, env_now[k]) != env_now[k])
    for label, names in (
        ("env_added", sorted(set(env_now) - set(env_then))),
        ("env_removed", sorted(set(env_then) - set(env_now))),
        ("env_value_changed", changed_env),
    ):
        if names:
            changes[label] = names
    spec_fields = sorted(
        k
        for k in set(run.spec) | set(success.spec)
        if k not in ("env", "params") and run.spec.get(k) != success.spec.get(k)
    )
    if spec_fields:
        changes["spec_fields_changed"] = spec_fields
    for label, then, now in (
        ("source_commit", success.source_commit, run.source_commit),
        ("worker_id", success.worker_id, run.worker_id),
        (
            "interpreter",
            (success.spec.get("executor") or {}).get("interpreter"),
            (run.spec.get("executor") or {}).get("interpreter"),
        ),
    ):
        if then != now:
            changes[label] = {"then": then, "now": now}
    return changes


@dataclass(frozen=True, slots=True)
class Bundle:
    run: dict[str, Any]
    spec: dict[str, Any]
    log: LogWindow
    log_truncated: bool
    duration_seconds: float | None
    usual_seconds: float | None
    last_success: dict[str, Any] | None
    timeout_seconds: float | None
    peak_rss_bytes: int | None
    status: RunStatus
    exit_code: int | None
    error: str | None
    redactor: Redactor

    def facts(self) -> Facts:
        return Facts(
            status=self.status,
            exit_code=self.exit_code,
            error=self.error,
            lines=self.log.lines,
            timeout_seconds=self.timeout_seconds,
            duration_seconds=self.duration_seconds,
            usual_seconds=self.usual_seconds,
            peak_rss_bytes=self.peak_rss_bytes,
        )

    def as_dict(self) -> dict[str, Any]:
        """The bundle as a model reads it (JSON), every string already redacted."""
        return {
            "run": self.run,
            "job_spec": self.spec,
            "duration_seconds": self.duration_seconds,
            "usual_duration_seconds": self.usual_seconds,
            "last_successful_run_diff": self.last_success,
            "log": {
                "total_lines": self.log.total,
                "lines_omitted_between_head_and_tail": self.log.omitted,
                "truncated_by_server_cap": self.log_truncated,
                "head": [{"line": n, "text": t} for n, t in self.log.head],
                "tail": [{"line": n, "text": t} for n, t in self.log.tail],
            },
        }


async def read_window(store: Store, domain: str, run: Run, redactor: Redactor) -> LogWindow:
    """The whole log read once, page by page, into a redacted head/tail window."""
    window = LogWindow(redactor)
    offset = 0
    while offset < MAX_LOG_READ_CHARS:
        page = await store.read_log(domain, run.id, offset, READ_PAGE_CHARS)
        if not page.data:
            break
        window.feed(page.data)
        offset = page.next_offset
        if page.complete:
            break
    return window.finish()


async def read_tail(store: Store, domain: str, run: Run, redactor: Redactor) -> list[LogLine]:
    """The last lines of a log (numbered from the window's start): enough for a fingerprint."""
    start = max(0, run.log_size - TAIL_CHARS)
    page = await store.read_log(domain, run.id, start, TAIL_CHARS)
    lines = page.data.split("\n")
    if start > 0:
        lines = lines[1:]  # the first piece is the end of a line cut by the offset
    return [(i + 1, redactor.text(t.rstrip("\r"))) for i, t in enumerate(lines) if t]


async def build_bundle(store: Store, domain: str, run: Run, redactor: Redactor) -> Bundle:
    successes = await store.list_runs(
        domain,
        RunFilter(job_id=run.job_id, status=[RunStatus.SUCCEEDED], until=run.created_at),
        limit=RECENT_SUCCESSES,
        cursor=None,
    )
    durations = [d for r in successes.items if (d := duration(r)) is not None]
    last_success = successes.items[0] if successes.items else None
    usage = run.resource_usage or {}
    spec = run.spec
    timeout = spec.get("timeout_seconds")
    return Bundle(
        run={
            "id": run.id,
            "job_name": redactor.text(run.job_name),
            "status": run.status.value,
            "exit_code": run.exit_code,
            "signal": signal_name(run.exit_code),
            "error": redactor.text(run.error) if run.error else None,
            "attempt": run.attempt,
            "trigger": run.trigger.value,
            "created_at": run.created_at.isoformat(),
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
            "worker_id": run.worker_id,
            "source_commit": run.source_commit,
            "params": redact_params(run.params, redactor),
            "resource_usage": usage or None,
            "lost_count": run.lost_count,
        },
        spec=redact_spec(spec, redactor),
        log=await read_window(store, domain, run, redactor),
        log_truncated=run.log_truncated,
        duration_seconds=duration(run),
        usual_seconds=statistics.median(durations) if durations else None,
        last_success=diff_from_success(run, last_success, redactor) if last_success else None,
        timeout_seconds=float(timeout) if isinstance(timeout, int | float) else None,
        peak_rss_bytes=int(usage["peak_rss_bytes"]) if "peak_rss_bytes" in usage else None,
        status=run.status,
        exit_code=run.exit_code,
        error=run.error,
        redactor=redactor,
    )
