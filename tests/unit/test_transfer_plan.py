"""The import plan and the export form of a spec, without a server (services/transfer.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hydra_jobs.errors import InvalidInput
from hydra_jobs.job_spec import JobSpec
from hydra_jobs.models import Job
from hydra_jobs.scheduler.services.transfer import (
    changed_paths,
    check_unique,
    exported,
    plan_import,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def spec(name: str, **more: Any) -> JobSpec:
    return JobSpec.model_validate(
        {"name": name, "executor": {"type": "shell", "script": ":"}, **more}
    )


def stored(s: JobSpec) -> Job:
    return Job(**s.model_dump(), id=f"id-{s.name}", domain="d", created_at=NOW, updated_at=NOW)


def test_changed_paths_name_the_nested_fields_and_whole_lists() -> None:
    old = {"a": 1, "env": {"X": "1", "Y": "2"}, "tags": ["a"], "s": None}
    new = {"a": 1, "env": {"X": "1", "Z": "3"}, "tags": ["a", "b"], "s": {"cron": "* * * * *"}}
    assert changed_paths(old, new) == ["env.Y", "env.Z", "s", "tags"]
    assert changed_paths(old, old) == []


def test_the_plan_sorts_by_name_and_deletes_only_with_prune() -> None:
    current = [stored(spec("b")), stored(spec("c", retries={"max_attempts": 2})), stored(spec("z"))]
    wanted = [spec("c", retries={"max_attempts": 3}), spec("b"), spec("a")]
    plan = plan_import("d", current, wanted, prune=False)
    assert plan.create == ["a"] and plan.unchanged == ["b"] and plan.delete == []
    assert [(u.name, u.changes) for u in plan.update] == [("c", ["retries.max_attempts"])]
    assert plan_import("d", current, wanted, prune=True).delete == ["z"]


def test_export_leaves_out_defaults_and_what_the_system_knows() -> None:
    job = stored(spec("a", queue="gpu", enabled=True)).model_copy(update={"paused": True})
    assert exported(job) == {
        "name": "a",
        "executor": {"type": "shell", "script": ":"},
        "queue": "gpu",
    }


def test_a_name_twice_is_refused_at_the_second() -> None:
    with pytest.raises(InvalidInput) as exc:
        check_unique([spec("a"), spec("b"), spec("a")])
    assert exc.value.loc == ("body", "jobs", 2, "name")
