"""Routing by worker tags: which workers may run a job that `requires` tags (pure, no I/O).

A job's `requires` maps a tag name to a value or a list of values (any of them):
`{"os": "windows", "gpu": true, "arch": ["x86_64", "arm64"]}`. A worker's tags are text
(`--tags os=windows,gpu=true`), so values are compared as text: `true`/`false` for booleans,
numbers as JSON writes them (`2`, `1.5`). A worker may run the job when it has every required tag
with one of the allowed values; tags the job does not name do not matter.

Brokers keep one queue per (domain, queue, route), where the route is the canonical text of the
requirements (`route_key`), so a worker reads only the queues it satisfies and a run waits on its
queue, never lost, until such a worker comes; nothing is claimed and handed back.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

TAG_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
TAG_KEY_RE = re.compile(TAG_KEY_PATTERN)
MAX_REQUIRED_TAGS = 16  # keys of one job's `requires`
MAX_TAG_VALUE_CHARS = 128
MAX_ALTERNATIVES = 16  # values in one any-of list
FORBIDDEN_IN_VALUES = ",="  # a worker's --tags k=v,k2=v2 cannot hold them: could never match

Scalar = str | bool | int | float
Route = tuple[tuple[str, tuple[str, ...]], ...]  # sorted (key, sorted allowed values)


def tag_text(value: Scalar) -> str:
    """A required value as the text a worker's tag must equal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, int | float):
        return json.dumps(value)
    return value


def value_problem(value: Any) -> str | None:
    """Why one required value (not a list) cannot be used, or None."""
    if not isinstance(value, str | bool | int | float):
        return "a value is text, a boolean or a number"
    text = tag_text(value)
    if not text or len(text) > MAX_TAG_VALUE_CHARS:
        return f"a value has 1 to {MAX_TAG_VALUE_CHARS} characters"
    if any(ch in text for ch in FORBIDDEN_IN_VALUES) or any(ord(ch) < 0x20 for ch in text):
        return "a value may not contain ',', '=' or control characters (worker tags cannot)"
    if text != text.strip():
        return "a value may not start or end with spaces (worker tags are trimmed)"
    return None


def route_of(requires: Mapping[str, Any] | None) -> Route:
    """The canonical form of `requires`: keys sorted, each with its sorted allowed texts."""
    if not requires:
        return ()
    out: list[tuple[str, tuple[str, ...]]] = []
    for key in sorted(requires):
        value = requires[key]
        values = value if isinstance(value, list) else [value]
        out.append((key, tuple(sorted({tag_text(v) for v in values}))))
    return tuple(out)


def route_key(requires: Mapping[str, Any] | None) -> str:
    """The route as compact text ('' without requirements): equal requirements, equal keys."""
    return route_text(route_of(requires))


def route_text(route: Route) -> str:
    if not route:
        return ""
    return json.dumps({k: list(v) for k, v in route}, separators=(",", ":"), sort_keys=True)


def parse_route_key(key: str) -> Route | None:
    """A route back from `route_key` text; None if it is not one (a forged queue name)."""
    if not key:
        return ()
    try:
        data = json.loads(key)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    out: list[tuple[str, tuple[str, ...]]] = []
    for name, values in data.items():
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return None
        out.append((str(name), tuple(values)))
    return tuple(sorted(out))


def satisfies(tags: Mapping[str, str], route: Route) -> bool:
    """Whether a worker with `tags` may run jobs of `route`."""
    return all(tags.get(key) in allowed for key, allowed in route)


def describe(route: Route) -> str:
    """`os=windows, arch=x86_64|arm64` for messages."""
    return ", ".join(f"{key}={'|'.join(allowed)}" for key, allowed in route)


def run_route(run: Mapping[str, Any]) -> Route:
    """The route of a run as the broker holds it (its spec snapshot's `requires`)."""
    spec = run.get("spec")
    requires = spec.get("requires") if isinstance(spec, Mapping) else None
    return route_of(requires if isinstance(requires, Mapping) else None)


def _status(worker: Any) -> str:
    return str(getattr(worker.status, "value", worker.status))


def parse_worker_tags(text: str) -> dict[str, str]:
    """`os=linux,gpu=true,ssd` (a bare name means `true`) as a worker's tags."""
    tags: dict[str, str] = {}
    for item in text.split(","):
        key, sep, value = item.partition("=")
        key = key.strip()
        if key:
            tags[key] = value.strip() if sep else "true"
    return tags


def waiting_reason(
    domain: str, queue: str, requires: Mapping[str, Any] | None, workers: Iterable[Any]
) -> str | None:
    """Why a run of (domain, queue, requires) cannot start now, from the online workers that
    serve the domain (their `queues`, `tags` and `status`), or None when one could take it."""
    workers = list(workers)
    online = [w for w in workers if _status(w) == "online"]
    if not online:
        if draining := sum(1 for w in workers if _status(w) == "draining"):
            # Said apart from "no worker": the operator drained them, and only a restart undoes it.
            what = "its only worker is" if draining == 1 else f"its {draining} workers are"
            return (
                f"no online worker in domain {domain}: {what} draining (a drained worker takes "
                "no new run until it is restarted)"
            )
        return f"no online worker in domain {domain}"
    serving = [w for w in online if queue in w.queues]
    if not serving:
        return f"no online worker in domain {domain} reads queue {queue}"
    route = route_of(requires)
    if not route or any(satisfies(w.tags, route) for w in serving):
        return None

    # Name the requirement fewest of them meet: what the operator most likely has to add.
    def met(item: tuple[str, tuple[str, ...]]) -> int:
        return sum(1 for w in serving if w.tags.get(item[0]) in item[1])

    key, allowed = min(route, key=met)
    wanted = describe(((key, allowed),))
    if met((key, allowed)) == 0:
        return f"no online worker in domain {domain} has {wanted}"
    return f"no online worker in domain {domain} has all of {describe(route)}"
