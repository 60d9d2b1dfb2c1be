"""Job generation through the API: the real SDKs against local stand-ins of OpenAI and Gemini."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from hydra_jobs.client import ApiError
from tests.ai_standins import GeminiStandIn, OpenAIStandIn, Reply, prompt_of
from tests.conftest import ADMIN, Server
from tests.integration.test_ai_providers import settings_for

NIGHTLY = {
    "name": "nightly-report",
    "executor": {"type": "shell", "script": 'echo "report for $HYDRA_PARAM_DAY"'},
    "schedule": {"cron": "0 2 * * *", "timezone": "Europe/Berlin"},
    "params": {"day": {"default": "today"}},
    "queue": "reports",
}


def draft(spec: dict[str, Any], explanation: str = "Runs the report at 02:00 Berlin.") -> Reply:
    return Reply(text=json.dumps({"spec": spec, "explanation": explanation}))


@pytest.fixture
def openai_standin() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn() as standin:
        yield standin


@pytest.fixture
def gemini_standin() -> Iterator[GeminiStandIn]:
    with GeminiStandIn() as standin:
        yield standin


def generate(server: Server, **body: Any) -> dict[str, Any]:
    return dict(server.client._call("POST", "/ai/generate", json=body))


def test_a_valid_draft_is_returned_checked_and_not_saved(
    make_server: Callable[..., Server], gemini_standin: GeminiStandIn
) -> None:
    server = make_server(**settings_for(gemini_standin))
    server.job("existing", "true", queue="reports", tags=["linux", "nightly"])
    gemini_standin.script.append(draft(NIGHTLY))
    secret = "hunter2hunter2"
    answer = generate(
        server,
        prompt=f"every night at 2 Berlin time, a report; db password={secret}, admin {ADMIN}",
        timezone="Europe/Berlin",
    )
    assert answer["valid"] is True and answer["errors"] == [] and answer["attempts"] == 1
    assert answer["spec"] == NIGHTLY and answer["explanation"]
    assert len(answer["next_fires"]) == 5
    assert all(f.endswith(("01:00:00Z", "00:00:00Z")) for f in answer["next_fires"])
    assert answer["provider"] == "gemini" and answer["model"] == "stand-in-model"
    assert answer["usage"] == {"input_tokens": 120, "output_tokens": 40}
    assert [j["name"] for j in server.client.list_jobs()["items"]] == ["existing"]  # not saved

    [request] = gemini_standin.requests
    prompt = prompt_of(request)
    assert '"existing_queues": ["default", "reports"]' in prompt
    assert '"existing_tags": ["linux", "nightly"]' in prompt
    assert '"user_timezone": "Europe/Berlin"' in prompt and "every night at 2" in prompt
    assert secret not in gemini_standin.bodies() and ADMIN not in gemini_standin.bodies()
    schema = json.dumps(request.json["generationConfig"])
    assert "interval_seconds" in schema and "executor" in schema  # the real JobSpec schema
    audit = server.client.audit(limit=20)["items"]
    [entry] = [e for e in audit if e["action"] == "ai.ai_generate"]
    assert entry["details"]["provider"] == "gemini" and entry["details"]["input_tokens"] == 120
    assert secret not in json.dumps(audit)


def test_an_invalid_draft_is_repaired_with_its_errors(
    make_server: Callable[..., Server], openai_standin: OpenAIStandIn
) -> None:
    server = make_server(**settings_for(openai_standin))
    wrong = {**NIGHTLY, "timeout": 30}
    openai_standin.script.extend([Reply(text="{not json"), draft(wrong), draft(NIGHTLY)])
    answer = generate(server, prompt="a nightly report", provider="openai")
    assert answer["valid"] is True and answer["attempts"] == 3 and answer["spec"] == NIGHTLY
    assert answer["usage"] == {"input_tokens": 360, "output_tokens": 120}
    second, third = (prompt_of(r) for r in openai_standin.requests[1:])
    assert "not JSON" in second
    assert "timeout_seconds" in third  # the validation error with its hint went back


def test_a_draft_that_stays_invalid_is_returned_with_its_errors(
    make_server: Callable[..., Server], openai_standin: OpenAIStandIn
) -> None:
    server = make_server(**settings_for(openai_standin))
    bad = {**NIGHTLY, "schedule": {"cron": "0 25 * * *"}}
    openai_standin.default = lambda _: draft(bad)
    answer = generate(server, prompt="a report at 25 o'clock")
    assert answer["valid"] is False and answer["attempts"] == 3
    assert len(openai_standin.requests) == 3
    assert answer["spec"] == bad and answer["next_fires"] == []
    assert answer["errors"][0]["loc"][:3] == ["body", "schedule", "cron"]

    openai_standin.default = lambda _: Reply(text="no json at all")
    with pytest.raises(ApiError) as garbage:
        generate(server, prompt="anything")
    assert garbage.value.status_code == 502 and "not JSON" in garbage.value.detail


def test_429_then_success_and_the_provider_choice(
    make_server: Callable[..., Server],
    openai_standin: OpenAIStandIn,
    gemini_standin: GeminiStandIn,
) -> None:
    server = make_server(**settings_for(openai_standin))
    openai_standin.script.extend(
        [Reply(status=429, error="Rate limit reached", headers={"retry-after-ms": "50"})]
    )
    openai_standin.default = lambda _: draft(NIGHTLY)
    answer = generate(server, prompt="nightly report", model="my-local-model")
    assert answer["provider"] == "openai" and len(openai_standin.requests) == 2
    assert openai_standin.requests[1].json["model"] == "my-local-model"
    with pytest.raises(ApiError) as unconfigured:
        generate(server, prompt="x", provider="gemini")
    assert unconfigured.value.status_code == 503 and "GEMINI_API_KEY" in unconfigured.value.detail


def test_a_provider_that_does_not_answer_in_time_is_a_504(
    make_server: Callable[..., Server], openai_standin: OpenAIStandIn
) -> None:
    server = make_server(**settings_for(openai_standin, HYDRA_AI_TIMEOUT_SECONDS=0.5))
    openai_standin.default = lambda _: Reply(text="{}", delay=2.0)
    with pytest.raises(ApiError) as slow:
        generate(server, prompt="nightly report")
    assert slow.value.status_code == 504 and "0.5 s" in slow.value.detail


def test_no_provider_and_disabled_domain(
    make_server: Callable[..., Server], openai_standin: OpenAIStandIn
) -> None:
    bare = make_server()
    with pytest.raises(ApiError) as none:
        generate(bare, prompt="x")
    assert none.value.status_code == 503
    assert "GEMINI_API_KEY" in none.value.detail and "OPENAI_API_KEY" in none.value.detail
    assert "in the scheduler's environment or its .env file, and restart it" in none.value.detail

    server = make_server(**settings_for(openai_standin))
    server.client._call("PATCH", "/domains/default", json={"description": "ops"})
    switched = server.client._call("PATCH", "/domains/default", json={"ai_enabled": False})
    assert switched["ai_enabled"] is False and switched["description"] == "ops"  # kept
    with pytest.raises(ApiError) as disabled:
        generate(server, prompt="x")
    assert disabled.value.status_code == 403 and not openai_standin.requests
    server.client._call("PATCH", "/domains/default", json={"ai_enabled": True})
    openai_standin.default = lambda _: draft(NIGHTLY)
    assert generate(server, prompt="x")["valid"] is True
