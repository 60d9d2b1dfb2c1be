"""Job generation: one sentence to a draft JobSpec, checked by the server, never saved.

The model answers against the real JobSpec schema; the server validates the draft exactly as
`POST /jobs/validate` does. A draft that fails goes back with its errors, at most `MAX_REPAIRS`
times; one that still fails is returned with its errors shown. Saving stays the user's act.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field

from hydra_jobs.errors import AiProviderFailed
from hydra_jobs.job_spec import JobSpec
from hydra_jobs.scheduler.ai.providers.base import Provider
from hydra_jobs.scheduler.ai.providers.retry import RetryPolicy, with_retries
from hydra_jobs.scheduler.ai.redact import Redactor
from hydra_jobs.scheduler.ai.schema import ProviderName, Usage
from hydra_jobs.scheduler.services.jobs import validate_spec

MAX_REPAIRS = 2
MAX_PROMPT_CHARS = 4000


class GenerateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, max_length=MAX_PROMPT_CHARS, description="What the job does.")
    provider: ProviderName | None = Field(
        default=None, description="Default: the server's default configured provider."
    )
    model: str | None = Field(
        default=None, min_length=1, max_length=200, description="Overrides the provider's model."
    )
    timezone: str | None = Field(
        default=None, max_length=64, description="The user's IANA timezone (the UI sends it)."
    )


class Draft(BaseModel):
    """What the model must answer: a job spec and a short explanation."""

    spec: JobSpec
    explanation: str = Field(description="Two or three sentences: what the job does and when.")


class GeneratedJob(BaseModel):
    """A draft job: never saved; `errors` are those `POST /jobs/validate` gives."""

    spec: dict[str, Any] = Field(description="The draft JobSpec (as the model wrote it).")
    valid: bool
    errors: list[dict[str, Any]] = Field(default_factory=list)
    next_fires: list[datetime] = Field(default_factory=list)
    explanation: str = ""
    provider: ProviderName
    model: str
    usage: Usage
    attempts: int = Field(description="Model calls made: 1, plus one per repair.")


@dataclass(frozen=True, slots=True)
class Context:
    """What the model needs to be right about this domain and this user."""

    queues: list[str]
    tags: list[str]
    now: datetime
    timezone: str


SYSTEM = """You write job definitions (JobSpec JSON) for Hydra Jobs, a job runner, from one
sentence of a user. Answer with one JSON object {"spec": JobSpec, "explanation": str} matching
the given schema exactly: unknown fields are rejected.

What a JobSpec can say:
- executor: {"type": "shell", "script": "..."} runs a POSIX sh script (a #! line picks another
  interpreter); {"type": "python", "script": "..."} runs Python source by the worker's Python
  (or "interpreter"); {"type": "batch"} is for Windows workers only.
- schedule: one of {"cron": "m h dom mon dow", "timezone": "Area/City"} (5 fields, or 6 with
  seconds first; the timezone is an IANA name, default UTC), {"interval_seconds": N}, or
  {"at": "ISO 8601 time"} for one run; leave it out for a job run by hand or by API.
- params: {"name": {"default": "...", "description": "...", "required": false}}. They reach the
  script as environment variables HYDRA_PARAM_<NAME> (upper case): use "$HYDRA_PARAM_DAY" in
  shell or os.environ["HYDRA_PARAM_DAY"] in Python; never template values into the script.
- env: plain variables (names must not start with HYDRA_); never put a real secret in a draft.
- source: {"url": "https://... .git", "ref": "main", "path": "dir"} runs the script in a checkout
  of a git repository (https or ssh).
- timeout_seconds, retries {"max_attempts", "backoff_seconds"}, concurrency {"max_running",
  "overlap": allow|skip|queue|cancel_previous}, catchup (none|latest|all, cron only), queue, tags.
Prefer the domain's existing queues and tags when they fit. Keep scripts short and safe."""


def generation_prompt(request: GenerateRequest, context: Context, redactor: Redactor) -> str:
    now = context.now.astimezone(_zone(context.timezone))
    facts = {
        "now": now.isoformat(timespec="seconds"),
        "weekday": now.strftime("%A"),
        "user_timezone": context.timezone,
        "existing_queues": context.queues,
        "existing_tags": context.tags,
    }
    return redactor.text(
        f"Context: {json.dumps(facts)}\n\nThe user asks for this job:\n{request.prompt}"
    )


def repair_prompt(first: str, answer: str, errors: list[dict[str, Any]]) -> str:
    return (
        f"{first}\n\nYour previous answer was:\n{answer[:8000]}\n\nIt is not valid. "
        f"Errors (loc is the path in the answer): {json.dumps(errors)[:4000]}\n"
        "Answer again with a corrected, complete JSON object."
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def read_draft(text: str, now: datetime) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    """The draft's spec, explanation and validation errors; malformed JSON is an error too."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        error = {"loc": ["body"], "msg": f"the answer is not JSON: {exc}", "type": "json_invalid"}
        return {}, "", [error]
    if not isinstance(doc, dict) or not isinstance(doc.get("spec"), dict):
        msg = 'the answer must be an object {"spec": {...}, "explanation": "..."}'
        return {}, "", [{"loc": ["body"], "msg": msg, "type": "model_type"}]
    spec: dict[str, Any] = doc["spec"]
    explanation = doc.get("explanation")
    report = validate_spec(spec, now)
    return spec, explanation if isinstance(explanation, str) else "", report.errors


async def generate(
    provider: Provider,
    policy: RetryPolicy,
    request: GenerateRequest,
    context: Context,
    redactor: Redactor,
) -> GeneratedJob:
    first = generation_prompt(request, context, redactor)
    prompt = first
    usage = Usage()
    model = request.model or provider.model
    for attempt in range(1, MAX_REPAIRS + 2):
        completion = await with_retries(
            partial(provider.complete_json, SYSTEM, prompt, Draft, "job_draft", request.model),
            policy,
        )
        model = completion.model
        usage = Usage(
            input_tokens=usage.input_tokens + completion.usage.input_tokens,
            output_tokens=usage.output_tokens + completion.usage.output_tokens,
        )
        spec, explanation, errors = read_draft(completion.text, context.now)
        if not errors or attempt == MAX_REPAIRS + 1:
            break
        prompt = repair_prompt(first, redactor.text(completion.text), errors)
    if not spec and errors:
        raise AiProviderFailed(f"the model did not answer with a job draft: {errors[0]['msg']}")
    report = validate_spec(spec, context.now)
    return GeneratedJob(
        spec=spec,
        valid=not errors,
        errors=errors,
        next_fires=report.next_fires,
        explanation=explanation,
        provider=provider.name,
        model=model,
        usage=usage,
        attempts=attempt,
    )
