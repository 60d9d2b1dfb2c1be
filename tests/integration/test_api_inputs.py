"""Hostile but well-formed input gets a 4xx that names the field, on every store (issue 13 §7).

Each case here was a 500 once: a number JSON does not have, a time past the end of the calendar,
a NUL that PostgreSQL refuses, a log offset beyond a 32-bit column.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Server
from tests.integration.test_api_jobs import SPEC, raw

JOB: dict[str, Any] = {"name": "inputs", "executor": {"type": "shell", "script": "echo hi"}}


def locs(response: httpx.Response) -> list[list[Any]]:
    return [e["loc"] for e in response.json()["detail"]]


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_a_number_json_does_not_have_is_422_naming_the_field(server: Server, number: str) -> None:
    spec = json.dumps({**JOB, "timeout_seconds": 0.5}).replace("0.5", number)
    headers = {"Content-Type": "application/json"}
    response = raw(server, "POST", "/jobs", content=spec, headers=headers)
    assert response.status_code == 422, response.text
    assert ["body", "timeout_seconds"] in locs(response)
    report = raw(server, "POST", "/jobs/validate", content=spec, headers=headers)
    assert report.status_code == 200, report.text
    assert ["body", "timeout_seconds"] in [e["loc"] for e in report.json()["errors"]]
    job = server.client.create_job({**JOB, "params": {"p": {"default": "x"}}})
    trigger = f'{{"params": {{"p": {number}}}}}'
    response = raw(server, "POST", f"/jobs/{job['id']}/run", content=trigger, headers=headers)
    assert response.status_code == 422, response.text
    assert ["body", "params", "p"] in locs(response)


@pytest.mark.parametrize(
    "schedule",
    [
        {"at": "9999-12-31T00:00:00", "timezone": "America/Adak"},
        {"at": "9999-12-31T23:59:59-12:00"},
        {"at": "0001-01-01T00:00:00+14:00"},
    ],
)
def test_a_one_off_time_past_the_calendar_is_422(server: Server, schedule: dict[str, str]) -> None:
    response = raw(server, "POST", "/jobs", json={**JOB, "schedule": schedule})
    assert response.status_code == 422, response.text
    assert ["body", "schedule", "at"] in locs(response)
    report = server.client.validate({**JOB, "schedule": schedule})
    assert report["valid"] is False
    assert ["body", "schedule", "at"] in [e["loc"] for e in report["errors"]]


@pytest.mark.parametrize(
    ("name", "value"),
    [("until", "9999-12-31T23:59:59-12:00"), ("since", "0001-01-01T00:00:00+14:00")],
)
def test_a_run_time_filter_past_the_calendar_is_422(server: Server, name: str, value: str) -> None:
    response = raw(server, "GET", "/runs", params={name: value})
    assert response.status_code == 422, response.text
    assert locs(response) == [["query", name]]


def test_a_naive_run_time_filter_is_utc(server: Server) -> None:
    run = server.wait_run(server.client.trigger(server.client.create_job(JOB)["id"])["id"])
    created = run["created_at"].replace("Z", "").split("+")[0]
    response = raw(server, "GET", "/runs", params={"since": created[:19]})
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()["items"]] == [run["id"]]


@pytest.mark.parametrize(
    ("method", "path", "params", "loc"),
    [
        ("GET", "/jobs", {"search": "a\x00"}, ["query", "search"]),
        ("GET", "/jobs", {"cursor": "\x00"}, ["query", "cursor"]),
        ("GET", "/runs", {"job_id": "\x00"}, ["query", "job_id"]),
        ("GET", "/jobs/%00", {}, ["path", "job_id"]),
        ("GET", "/runs/%00/logs", {}, ["path", "run_id"]),
    ],
)
def test_a_nul_in_a_path_or_query_is_422_naming_it(
    server: Server, method: str, path: str, params: dict[str, str], loc: list[str]
) -> None:
    response = raw(server, method, path, params=params)
    assert response.status_code == 422, response.text
    assert locs(response) == [loc]


def test_a_nul_in_a_body_string_is_422_naming_it(server: Server) -> None:
    response = raw(server, "POST", "/domains", json={"name": "nul", "description": "a\x00b"})
    assert response.status_code == 422, response.text
    assert locs(response) == [["body", "description"]]
    response = raw(server, "POST", "/jobs", json={**SPEC, "description": "\x00"})
    assert response.status_code == 422 and locs(response) == [["body", "description"]]
    job = server.client.create_job({**JOB, "params": {"p": {"default": "x"}}})
    response = raw(server, "POST", f"/jobs/{job['id']}/run", json={"params": {"p": "\x00"}})
    assert response.status_code == 422 and locs(response) == [["body", "params", "p"]]
    # An escaped backslash before "u0000" is text, not a NUL.
    literal = raw(server, "POST", "/domains", json={"name": "lit", "description": "\\u0000"})
    assert literal.status_code == 201, literal.text


def test_a_nul_in_a_ui_path_is_a_404(make_server: Callable[..., Server], tmp_path: Path) -> None:
    ui = tmp_path / "ui"
    ui.mkdir()
    (ui / "index.html").write_text("<html>ui</html>")
    server = make_server(HYDRA_UI_DIR=ui)
    for path in ("/%00", "/jobs/a%00b", "/assets/%00.js"):
        assert httpx.get(server.url + path).status_code == 404, path


def test_log_offsets_past_32_bits_read_nothing(server: Server) -> None:
    run = server.wait_run(server.client.trigger(server.client.create_job(JOB)["id"])["id"])
    for offset in (2**31, 2**53):
        response = raw(server, "GET", f"/runs/{run['id']}/logs", params={"offset": offset})
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["data"] == "" and page["next_offset"] == offset and page["complete"] is True


def test_a_log_stream_resumed_past_the_end_ends(server: Server) -> None:
    run = server.wait_run(server.client.trigger(server.client.create_job(JOB)["id"])["id"])
    headers = {**server.client.http.headers, "Last-Event-ID": "999999999999999"}
    url = f"{server.url}/api/v1/runs/{run['id']}/logs/stream"
    with httpx.stream("GET", url, headers=headers, timeout=10) as response:
        assert response.status_code == 200
        text = "".join(response.iter_text())
    assert "event: end" in text and '"status":"succeeded"' in text.replace(" ", ""), text


@pytest.mark.parametrize(
    ("method", "path", "body", "rule"),
    [
        ("POST", "/jobs", {**SPEC, "name": "café"}, "letters, digits, spaces and _ . :"),
        ("POST", "/jobs/validate", {**SPEC, "name": ""}, "starting with a letter"),
        ("POST", "/domains", {"name": "Bad_Name"}, "lowercase letters, digits, _ and -"),
    ],
)
def test_a_name_that_breaks_its_rule_is_told_the_rule_in_words(
    server: Server, method: str, path: str, body: dict[str, Any], rule: str
) -> None:
    """Not pydantic's "String should match pattern '^[A-Za-z0-9][A-Za-z0-9 _.:@/-]{0,199}$'"."""
    response = raw(server, method, path, json=body)
    detail = response.json()["detail"] if response.status_code == 422 else response.json()["errors"]
    name_errors = [e for e in detail if e["loc"] == ["body", "name"]]
    assert len(name_errors) == 1, detail
    assert name_errors[0]["msg"].startswith("Use ") and rule in name_errors[0]["msg"]
    assert "^[" not in name_errors[0]["msg"]
