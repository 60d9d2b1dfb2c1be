"""JobSpec validation: the contract's shape, unknown fields, clear field errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from hydra_jobs.job_spec import MAX_ENV_VALUE_CHARS, JobSpec
from hydra_jobs.limits import STORED
from hydra_jobs.models import RunBatchRequest, RunRequest

ROOT = Path(__file__).resolve().parents[2]
MINIMAL: dict[str, Any] = {"name": "j", "executor": {"type": "shell", "script": "true"}}


def errors(spec: dict[str, Any]) -> list[tuple[tuple[object, ...], str]]:
    with pytest.raises(ValidationError) as exc:
        JobSpec.model_validate(spec)
    return [(e["loc"], e["msg"]) for e in exc.value.errors()]


def test_defaults() -> None:
    spec = JobSpec.model_validate(MINIMAL)
    assert spec.queue == "default" and spec.enabled and spec.retries.max_attempts == 1
    assert spec.concurrency.overlap == "allow" and spec.catchup == "none"


@pytest.mark.parametrize("path", sorted((ROOT / "examples" / "jobs").glob("*.json")))
def test_example_jobs_are_valid(path: Path) -> None:
    JobSpec.model_validate(json.loads(path.read_text()))


def test_schedule_needs_exactly_one_kind() -> None:
    msgs = errors({**MINIMAL, "schedule": {"cron": "* * * * *", "interval_seconds": 5}})
    assert any("exactly one" in m for _, m in msgs)
    msgs = errors({**MINIMAL, "schedule": {}})
    assert any("exactly one" in m for _, m in msgs)


def test_bad_cron_names_the_field() -> None:
    msgs = errors({**MINIMAL, "schedule": {"cron": "0 25 * * *"}})
    assert any("hour" in m and "25" in m for _, m in msgs), msgs


def test_timezone_applies_to_cron_and_at_only() -> None:
    msgs = errors({**MINIMAL, "schedule": {"interval_seconds": 5, "timezone": "UTC"}})
    assert any("timezone" in m for _, m in msgs)


def test_catchup_needs_a_cron_schedule() -> None:
    msgs = errors({**MINIMAL, "catchup": "all"})
    assert any("catchup" in m for _, m in msgs)


@pytest.mark.parametrize("name", ["", " leading", "x" * 201, "bad\nname"])
def test_bad_names(name: str) -> None:
    assert errors({**MINIMAL, "name": name})[0][0] == ("name",)


def test_param_names_are_identifiers() -> None:
    msgs = errors({**MINIMAL, "params": {"not-valid": {}}})
    assert msgs[0][0] == ("params",)


def test_naive_at_is_read_in_the_timezone() -> None:
    spec = JobSpec.model_validate(
        {**MINIMAL, "schedule": {"at": "2026-12-01T09:00:00", "timezone": "Europe/Berlin"}}
    )
    assert spec.schedule is not None
    at = spec.schedule.at_utc()
    assert at is not None and at.isoformat() == "2026-12-01T08:00:00+00:00"


# git sources: the API refuses what the worker would refuse (the worker checks again) ----------

GIT_SOURCE_BASE = {"url": "https://example.org/r.git"}


@pytest.mark.parametrize(
    ("source", "field"),
    [
        ({"url": "ssh://-oProxyCommand=touch%20x/r"}, "url"),
        ({"url": "ssh://-host/r"}, "url"),
        ({"url": "https://a@b@127.0.0.1/r.git"}, "url"),
        ({"url": "https://example.org/r\n.git"}, "url"),
        ({"url": "https://example.org:99999/r.git"}, "url"),
        ({"url": "myhelper::https://example.org/r"}, "url"),
        ({**GIT_SOURCE_BASE, "ref": "a..b"}, "ref"),
        ({**GIT_SOURCE_BASE, "ref": "main@{1}"}, "ref"),
        ({**GIT_SOURCE_BASE, "ref": "+main"}, "ref"),
        ({**GIT_SOURCE_BASE, "ref": "x^{tree}"}, "ref"),
        ({**GIT_SOURCE_BASE, "ref": "a b"}, "ref"),
        ({**GIT_SOURCE_BASE, "path": "sub\ndir"}, "path"),
    ],
)
def test_git_source_rules(source: dict[str, Any], field: str) -> None:
    assert ("source", field) in [loc[:2] for loc, _ in errors({**MINIMAL, "source": source})]


@pytest.mark.parametrize(
    "source",
    [
        {"url": "git@github.com:org/repo.git", "ref": "feature/x"},
        {"url": "file:///srv/repo.git", "ref": "0123456789abcdef0123456789abcdef01234567"},
        {"url": "ssh://git@example.org:2222/r.git", "ref": "v1.2", "path": "scripts/nightly"},
    ],
)
def test_git_sources_accepted(source: dict[str, Any]) -> None:
    assert JobSpec.model_validate({**MINIMAL, "source": source}).source is not None


def test_a_page_model_outlives_garbage_collection() -> None:
    """Pydantic holds `Page[X]` weakly; rebuilding it cost ~4 ms on the event loop per list."""
    import gc
    import weakref

    from hydra_jobs.models import Job, Page, Run

    for item in (Run, Job):
        first = weakref.ref(Page[item])  # type: ignore[valid-type]
        gc.collect()
        assert first() is not None and first() is Page[item]  # type: ignore[valid-type]
    assert Page[Run] is not Page[Job]


@pytest.mark.parametrize("seconds", [0.001, 0.5])
def test_an_interval_is_at_least_a_second(seconds: float) -> None:
    msgs = errors({**MINIMAL, "schedule": {"interval_seconds": seconds}})
    assert msgs[0][0] == ("schedule", "interval_seconds"), msgs
    JobSpec.model_validate({**MINIMAL, "schedule": {"interval_seconds": 1}})


def test_parameters_that_reach_the_job_as_one_variable_are_refused() -> None:
    msgs = errors({**MINIMAL, "params": {"foo": {}, "FOO": {}}})
    assert msgs[0][0] == ("params",), msgs
    assert "'foo' and 'FOO'" in msgs[0][1] and "HYDRA_PARAM_FOO" in msgs[0][1]


def test_parameter_defaults_are_bounded_together() -> None:
    big = {"default": "x" * MAX_ENV_VALUE_CHARS}
    msgs = errors({**MINIMAL, "params": {f"p{i}": big for i in range(8)}})
    assert msgs[0][0] == ("params",) and "262,144" in msgs[0][1], msgs
    JobSpec.model_validate({**MINIMAL, "params": {f"p{i}": big for i in range(7)}})


def test_a_parameter_value_is_bounded_like_an_env_value() -> None:
    with pytest.raises(ValidationError) as exc:
        RunRequest.model_validate({"params": {"p": "x" * (MAX_ENV_VALUE_CHARS + 1)}})
    assert exc.value.errors()[0]["loc"] == ("params", "p")
    with pytest.raises(ValidationError) as exc:
        RunBatchRequest.model_validate({"runs": [{"params": {"p": "x" * 40_000}}]})
    assert exc.value.errors()[0]["loc"] == ("runs", 0, "params", "p")


def test_what_was_saved_under_older_rules_still_loads() -> None:
    """An upgrade must not make a stored job or a queued run's snapshot unreadable."""
    old = {
        **MINIMAL,
        "schedule": {"interval_seconds": 0.5},
        "params": {"foo": {}, "FOO": {}},
    }
    assert len(errors(old)) == 2  # refused as input
    spec = JobSpec.model_validate(old, context=STORED)
    assert spec.schedule is not None and spec.schedule.every_seconds() == 1.0  # run each second
    with pytest.raises(ValidationError):
        JobSpec.model_validate({**MINIMAL, "schedule": {"interval_seconds": 0}}, context=STORED)


def test_a_job_env_is_bounded_together() -> None:
    big = "x" * MAX_ENV_VALUE_CHARS
    msgs = errors({**MINIMAL, "env": {f"V{i}": big for i in range(8)}})
    assert msgs[0][0] == ("env",) and "262,144" in msgs[0][1], msgs
    JobSpec.model_validate({**MINIMAL, "env": {f"V{i}": big for i in range(7)}})
    JobSpec.model_validate({**MINIMAL, "env": {f"V{i}": big for i in range(8)}}, context=STORED)


@pytest.mark.parametrize("kind", ["shell", "python"])
def test_a_script_given_as_one_argument_fits_in_one(kind: str) -> None:
    big = "#" + "x" * (128 * 1024)  # a comment: valid in both languages
    msgs = errors({**MINIMAL, "executor": {"type": kind, "script": big}})
    assert msgs[0][0] == ("executor", "script") and "#!" in msgs[0][1], msgs
    JobSpec.model_validate({**MINIMAL, "executor": {"type": kind, "script": big[:-2]}})
    if kind == "shell":  # run from a file: the argument limit does not apply
        on_file = {"type": kind, "script": "#!/bin/sh\n" + big}
        JobSpec.model_validate({**MINIMAL, "executor": on_file})
