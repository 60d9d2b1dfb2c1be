"""I7 (docs/reliability.md): hostile input to every route of the OpenAPI schema never yields a 500.

For each operation, hypothesis draws path parameters, query parameters (the documented ones and
strangers), headers and JSON bodies: huge numbers, control characters, deep nesting, wrong types.
The only acceptable answers are 2xx, 4xx, or 501 for the routes not built yet. Streams are only
opened (a 200 stream is fine); a body is never read from them.

The script runs it on PostgreSQL too (`HYDRA_TEST_STORE=postgres`), whose text refuses NUL and
whose integers are 32-bit: the edge values below were 500s there once (issue 13).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ADMIN, Server

API = "/api/v1"
STREAMS = {"/events", "/runs/{run_id}/logs/stream"}
EXAMPLES_PER_ROUTE = 25

text = st.text(max_size=40) | st.sampled_from(
    [
        *["", "0", "-1", "1e309", "99999999999999999999999", "NaN", "\x00", "../../etc", "\u00b2"],
        *[" ", "9999-12-31T23:59:59-12:00", "999999999999999", str(2**31 + 1)],
    ]
)
big_numbers = st.integers(min_value=-(2**70), max_value=2**70).map(str)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | text
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)


def operations(server: Server) -> list[tuple[str, str, dict[str, Any]]]:
    schema = httpx.get(server.url + "/openapi.json").json()
    return [
        (method.upper(), path[len(API) :], operation)
        for path, ops in sorted(schema["paths"].items())
        if path.startswith(API)
        for method, operation in ops.items()
    ]


def fuzz(
    server: Server, method: str, path: str, operation: dict[str, Any], real: dict[str, str]
) -> None:
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
    queries = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    has_body = "requestBody" in operation

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        path_values=st.fixed_dictionaries(
            {n: st.sampled_from([real[n]]) | text.filter(lambda v: v.strip("./")) for n in names}
        ),
        query=st.dictionaries(st.sampled_from([*queries, "zz"]), text | big_numbers, max_size=3),
        body=json_values if has_body else st.none(),
        last_id=st.none() | text,
    )
    def check(
        path_values: dict[str, str], query: dict[str, str], body: Any, last_id: str | None
    ) -> None:
        url = (
            server.url + API + path.format(**{k: quote(v, safe="") for k, v in path_values.items()})
        )
        headers = {"Authorization": f"Bearer {ADMIN}"}
        if last_id is not None:
            headers["Last-Event-ID"] = quote(last_id)
        kwargs: dict[str, Any] = {"params": query, "headers": headers, "timeout": 15}
        if has_body:
            kwargs["content"] = json.dumps(body)  # NaN and Infinity included: hostile JSON
        if path in STREAMS:
            with httpx.stream(method, url, **kwargs) as response:
                status = response.status_code
        else:
            status = httpx.request(method, url, **kwargs).status_code
        assert status < 500 or status == 501, (method, url, query, body, status)

    check()


# Every route is fuzzed: over 30 of them take close to the default 120 s on a loaded machine.
@pytest.mark.timeout(300)
def test_i7_no_route_answers_hostile_input_with_a_server_error(
    make_server: Callable[..., Server],
) -> None:
    server = make_server()
    # Real objects too: a hostile query on an existing run reaches deeper than a 404 would.
    job = server.job("fuzzed", "echo hi")
    run = server.wait_run(server.client.trigger(job["id"])["id"])
    token = server.client.create_token("default", "fuzz", "owner")
    worker = server.client.workers()[0]
    real = {
        "job_id": job["id"],
        "run_id": run["id"],
        "worker_id": worker["id"],
        "name": "default",
        "token_id": token["id"],
        "version": "1",
    }
    ops = operations(server)
    assert len(ops) >= 25
    for method, path, operation in ops:
        sweep_edges(server, method, path, operation, real)
        fuzz(server, method, path, operation, real)


EDGES = [
    "99999999999999999999999",
    "-99999999999999999999999",
    "1e309",
    "NaN",
    "\u00b2",
    "",
    "\x00",
    "a\x00b",
    str(2**31 + 1),
    str(2**53),
    "9999-12-31T23:59:59-12:00",
    "0001-01-01T00:00:00+14:00",
]
# Bodies that Python's JSON parser reads but JSON does not allow, and a NUL in a string.
EDGE_BODIES = [
    "NaN",
    '{"name": Infinity, "description": -Infinity}',
    '{"params": {"p": 1e400}, "runs": [NaN]}',
    '{"name": "a\\u0000", "description": "\\u0000", "params": {"\\u0000": "x"}}',
    '{"name": "edge", "executor": {"type": "shell", "script": "true"}, "schedule": '
    + '{"at": "9999-12-31T00:00:00", "timezone": "America/Adak"}}',
]


def sweep_edges(
    server: Server, method: str, path: str, operation: dict[str, Any], real: dict[str, str]
) -> None:
    """Every query and path parameter and the body of the route, with each classic edge value,
    on real objects; streams also resumed far past their end."""
    url = server.url + API + path.format(**real)
    headers = {"Authorization": f"Bearer {ADMIN}"}
    body = "{}" if "requestBody" in operation else None
    cases: list[tuple[str, dict[str, Any]]] = []
    for param in [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]:
        cases += [(url, {"params": {param: value}}) for value in EDGES]
    for param in [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]:
        for value in ("\x00", "a\x00b"):
            edged = path.format(**{**real, param: quote(value, safe="")})
            cases.append((server.url + API + edged, {}))
    if body is not None:
        cases += [(url, {"content": edge}) for edge in EDGE_BODIES]
    if path in STREAMS:
        cases.append((url, {"headers": {**headers, "Last-Event-ID": "999999999999999"}}))
    for target, case in cases:
        kwargs: dict[str, Any] = {"headers": headers, "timeout": 15, **case}
        if body is not None:
            kwargs.setdefault("content", body)
            kwargs["headers"] = {**kwargs["headers"], "Content-Type": "application/json"}
        if path in STREAMS:
            with httpx.stream(method, target, **kwargs) as response:
                status = response.status_code
        else:
            status = httpx.request(method, target, **kwargs).status_code
        assert status < 500 or status == 501, (method, target, case, status)
