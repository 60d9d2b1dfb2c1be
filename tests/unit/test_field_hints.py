"""'Did you mean' for unknown fields, found at the right place in the model."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from hydra_jobs.field_hints import with_hint
from hydra_jobs.job_spec import JobSpec

BASE: dict[str, Any] = {"name": "j", "executor": {"type": "shell", "script": ":"}}


def hints(spec: dict[str, Any]) -> dict[tuple[Any, ...], str]:
    with pytest.raises(ValidationError) as caught:
        JobSpec.model_validate(spec)
    return {e["loc"]: with_hint(dict(e), JobSpec)["msg"] for e in caught.value.errors()}


@pytest.mark.parametrize(
    ("patch", "loc", "meant"),
    [
        ({"timeout": 5}, ("timeout",), "timeout_seconds"),
        (
            {"executor": {**BASE["executor"], "interpeter": "x"}},
            ("executor", "interpeter"),
            "interpreter",
        ),
        ({"schedule": {"crn": "* * * * *"}}, ("schedule", "crn"), "cron"),  # through Optional
        ({"params": {"p": {"defualt": "x"}}}, ("params", "p", "defualt"), "default"),  # a dict
        ({"source": {"url": "https://h/r.git", "reff": "main"}}, ("source", "reff"), "ref"),
    ],
)
def test_the_field_it_resembles_at_that_place(
    patch: dict[str, Any], loc: tuple[str, ...], meant: str
) -> None:
    assert hints({**BASE, **patch})[loc].endswith(f"did you mean '{meant}'?")


def test_no_guess_without_a_close_field_or_for_other_errors() -> None:
    found = hints({**BASE, "zzz": 1, "timeout_seconds": -1})
    assert found[("zzz",)] == "Extra inputs are not permitted"
    assert "did you mean" not in found[("timeout_seconds",)]


def test_a_prefix_that_is_not_a_field_is_skipped() -> None:
    error = {
        "type": "extra_forbidden",
        "loc": ("body", "timout"),
        "msg": "Extra inputs are not permitted",
    }
    assert with_hint(error, JobSpec, skip=1)["msg"].endswith("'timeout_seconds'?")
    assert with_hint(error, JobSpec)["msg"] == error["msg"]  # "body" is no field of the model
