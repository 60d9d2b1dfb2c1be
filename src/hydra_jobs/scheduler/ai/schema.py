"""The shapes of failure analysis: the API request and answer, and the part a model must fill.

`Finding` is what an analyser (the built-in rules or a model) produces; the service adds what the
server knows for certain (fingerprint, earlier runs that failed the same way, provider, usage) to
make an `Analysis`, which is stored with the run and returned as it was stored.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hydra_jobs.status import RunStatus

ProviderName = Literal["gemini", "openai"]
AnalysisProvider = Literal["gemini", "openai", "heuristic"]
MAX_EVIDENCE = 12


class Category(StrEnum):
    MISSING_COMMAND = "missing_command"
    PERMISSION = "permission"
    MISSING_FILE = "missing_file"
    DEPENDENCY = "dependency"
    NETWORK = "network"
    AUTH = "auth"
    OUT_OF_MEMORY = "out_of_memory"
    TIMEOUT = "timeout"
    DISK = "disk"
    CODE_ERROR = "code_error"
    INFRASTRUCTURE = "infrastructure"
    UNKNOWN = "unknown"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnalyzeRequest(_Strict):
    provider: AnalysisProvider | None = Field(
        default=None,
        description="Who analyses: a configured model, or `heuristic` (built-in rules, no key). "
        "Default: a configured model, else the rules.",
    )
    force: bool = Field(default=False, description="Analyse again even if an answer is stored.")


class Evidence(_Strict):
    line: int = Field(ge=1, description="1-based line number in the run's log.")
    text: str = Field(max_length=2000, description="The line as quoted (secrets masked).")


class Finding(_Strict):
    """What an analyser concludes; a model's answer is parsed strictly into this."""

    summary: str = Field(max_length=1000)
    probable_cause: str = Field(max_length=2000)
    category: Category
    evidence: list[Evidence] = Field(default_factory=list, max_length=MAX_EVIDENCE)
    suggested_fix: str = Field(max_length=2000)
    suggested_spec_patch: dict[str, Any] | None = Field(
        default=None,
        description="A JSON merge patch of the job spec, only ever a suggestion shown to a person.",
    )
    confidence: float = Field(ge=0.0, le=1.0)


class SimilarRun(BaseModel):
    id: str
    status: RunStatus
    created_at: datetime


class Usage(BaseModel):
    input_tokens: int = 0
    output_tokens: int = 0


class Analysis(Finding):
    """A run's failure analysis, as stored with the run and returned."""

    run_id: str
    job_id: str
    provider: AnalysisProvider
    model: str | None = None
    created_at: datetime
    fingerprint: str = Field(description="Groups runs whose normalised error is the same.")
    same_failures: int = Field(
        description="Earlier runs of the job (among the recent ones) that failed the same way."
    )
    same_failures_since: datetime | None = Field(
        default=None, description="When the oldest of them was created."
    )
    similar_runs: list[SimilarRun] = Field(default_factory=list)
    duration_seconds: float | None = None
    usual_duration_seconds: float | None = Field(
        default=None, description="Median duration of the job's recent successful runs."
    )
    since_last_success: dict[str, Any] | None = Field(
        default=None,
        description="What differs from the job's last successful run (params, env names, spec "
        "fields, git commit, worker, interpreter); secret values masked.",
    )
    patch_valid: bool | None = Field(
        default=None, description="Whether the spec with the suggested patch applied validates."
    )
    patch_errors: list[dict[str, Any]] = Field(default_factory=list)
    usage: Usage | None = None
    cached: bool = Field(default=False, description="True when this is the stored answer.")
