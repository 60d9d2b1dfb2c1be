"""The configured AI providers, the per-domain rate limit, and what the domain switch allows.

Built once from `Settings`; nothing here talks to a provider until a request asks for one. The
switch itself is stored with the domain (`PATCH /domains/{name}` `{"ai_enabled"}`, admin); callers
read it and pass it in.
"""

from __future__ import annotations

import importlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field

from hydra_jobs.config import Settings
from hydra_jobs.errors import AiDisabled, AiNotConfigured, ConfigError, RateLimited
from hydra_jobs.scheduler.ai.providers.base import Provider
from hydra_jobs.scheduler.ai.providers.retry import RetryPolicy
from hydra_jobs.scheduler.ai.schema import ProviderName

KEY_VARIABLES: dict[str, str] = {"gemini": "GEMINI_API_KEY", "openai": "OPENAI_API_KEY"}
WHERE_KEYS_GO = "in the scheduler's environment or its .env file, and restart it"
ORDER: tuple[ProviderName, ...] = ("gemini", "openai")
RATE_WINDOW_SECONDS = 60.0


class ProviderInfo(BaseModel):
    name: ProviderName
    model: str
    default: bool = False


class ProvidersAnswer(BaseModel):
    """What `GET /ai/providers` shows: configured providers (never keys) and the switch."""

    providers: list[ProviderInfo] = Field(
        description="Configured providers; only these can be asked for."
    )
    enabled: bool = Field(description="False when the admin disabled AI for this domain.")
    heuristic: bool = Field(
        default=True, description="The built-in failure analyser is always available."
    )


@dataclass(slots=True)
class RateLimit:
    """At most `per_minute` provider calls per domain in any sliding minute (this replica)."""

    per_minute: int
    clock: Callable[[], float] = time.monotonic
    calls: dict[str, deque[float]] = field(default_factory=dict)

    def take(self, domain: str) -> None:
        calls = self.calls.setdefault(domain, deque())
        now = self.clock()
        while calls and calls[0] <= now - RATE_WINDOW_SECONDS:
            calls.popleft()
        if len(calls) >= self.per_minute:
            wait = calls[0] + RATE_WINDOW_SECONDS - now
            raise RateLimited(
                f"AI requests of this domain are limited to {self.per_minute} a minute; "
                f"try again in {wait:.0f} s",
                retry_after=wait,
            )
        calls.append(now)


def _sdk(module: str, name: str) -> Any:
    """A provider class, imported only when its key is set (the SDKs are the `ai` extra)."""
    try:
        loaded = importlib.import_module(f"hydra_jobs.scheduler.ai.providers.{module}")
    except ImportError as exc:
        raise ConfigError(
            f"{KEY_VARIABLES[module]} is set but the {module} SDK is not installed: "
            f"pip install 'hydra-jobs[ai]' ({exc})"
        ) from exc
    return getattr(loaded, name)


class AiProviders:
    def __init__(self, settings: Settings) -> None:
        self.providers: dict[str, Provider] = {}
        timeout = settings.ai_timeout_seconds
        if settings.gemini_api_key is not None:
            GeminiProvider = _sdk("gemini", "GeminiProvider")

            self.providers["gemini"] = GeminiProvider(
                settings.gemini_api_key.get_secret_value(),
                model=settings.gemini_model,
                base_url=settings.gemini_base_url,
                timeout=timeout,
            )
        if settings.openai_api_key is not None:
            OpenAIProvider = _sdk("openai", "OpenAIProvider")

            self.providers["openai"] = OpenAIProvider(
                settings.openai_api_key.get_secret_value(),
                model=settings.openai_model,
                base_url=settings.openai_base_url,
                timeout=timeout,
            )
        preferred = settings.ai_provider
        self.default = preferred if preferred in self.providers else None
        if self.default is None:
            self.default = next((n for n in ORDER if n in self.providers), None)
        self.policy = RetryPolicy(
            attempts=settings.ai_attempts, max_delay=settings.ai_max_retry_delay_seconds
        )
        self.rate = RateLimit(settings.ai_requests_per_minute)

    def usable(self, enabled: bool) -> bool:
        """Whether a request that names no provider gets a model (else the built-in rules)."""
        return self.default is not None and enabled

    def answer(self, enabled: bool) -> ProvidersAnswer:
        return ProvidersAnswer(
            providers=[
                ProviderInfo(name=p.name, model=p.model, default=p.name == self.default)
                for n in ORDER
                if enabled and (p := self.providers.get(n)) is not None
            ],
            enabled=enabled,
        )

    def pick(self, domain: str, requested: ProviderName | None, *, enabled: bool) -> Provider:
        """The provider to call for `domain`, counted against its rate limit; or why not."""
        if not enabled:
            raise AiDisabled(f"AI is disabled for domain '{domain}' by the administrator")
        name = requested or self.default
        if name is None:
            raise AiNotConfigured(
                "no AI provider is configured: set GEMINI_API_KEY or OPENAI_API_KEY (and "
                f"OPENAI_BASE_URL for an OpenAI-compatible server) {WHERE_KEYS_GO}"
            )
        provider = self.providers.get(name)
        if provider is None:
            raise AiNotConfigured(
                f"{name} is not configured: set {KEY_VARIABLES[name]} {WHERE_KEYS_GO}"
            )
        self.rate.take(domain)
        return provider
