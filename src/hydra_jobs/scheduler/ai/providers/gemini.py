"""Gemini on the official `google-genai` SDK: generateContent with a JSON response schema.

The base URL is configurable (a gateway, or the tests' stand-in server). The SDK's retries are
off (`retry.py` retries both providers alike); its errors become ours with the key masked.
"""

from __future__ import annotations

import importlib
import types as pytypes
from typing import Literal

import httpx
from google import genai
from google.genai import errors, types
from pydantic import BaseModel

from hydra_jobs.errors import AiProviderFailed, AiTimeout
from hydra_jobs.scheduler.ai.providers.base import Completion, ProviderHttpError, provider_message
from hydra_jobs.scheduler.ai.providers.base import retry_after_seconds as _retry_after
from hydra_jobs.scheduler.ai.schema import Usage

DEFAULT_MODEL = "gemini-2.5-flash"


def _http_libraries() -> list[pytypes.ModuleType]:
    """httpx, and httpx2 (a fork under its own name) that newer SDKs use instead: their
    exceptions are not each other's, so both are caught."""
    found = [httpx]
    try:
        found.append(importlib.import_module("httpx2"))
    except ImportError:
        pass
    return found


TIMEOUTS: tuple[type[BaseException], ...] = tuple(m.TimeoutException for m in _http_libraries())
TRANSPORT: tuple[type[BaseException], ...] = tuple(m.TransportError for m in _http_libraries())


class GeminiProvider:
    name: Literal["gemini"] = "gemini"

    def __init__(self, key: str, *, model: str, base_url: str | None, timeout: float) -> None:
        self.model = model
        self._key = key
        self._timeout = timeout
        options = types.HttpOptions(
            base_url=base_url,
            timeout=int(timeout * 1000),  # milliseconds
            retry_options=types.HttpRetryOptions(attempts=1),
        )
        self.client = genai.Client(api_key=key, http_options=options)

    async def complete_json(
        self,
        system: str,
        user: str,
        schema: type[BaseModel],
        schema_name: str,
        model: str | None = None,
    ) -> Completion:
        config = types.GenerateContentConfig(
            system_instruction=system,
            response_mime_type="application/json",
            response_schema=schema,  # the SDK turns the model into Gemini's responseSchema
            temperature=0.2,
        )
        try:
            try:
                answer = await self.client.aio.models.generate_content(
                    model=model or self.model, contents=user, config=config
                )
            except ValueError:
                # responseSchema (an OpenAPI subset) cannot say "a map of str to Param" on the
                # Developer API, and the SDK refuses before sending; responseJsonSchema can.
                config = config.model_copy(
                    update={
                        "response_schema": None,
                        "response_json_schema": schema.model_json_schema(),
                    }
                )
                answer = await self.client.aio.models.generate_content(
                    model=model or self.model, contents=user, config=config
                )
        except errors.APIError as exc:
            headers = getattr(exc.response, "headers", None)
            raise ProviderHttpError(
                provider_message("Gemini", exc.code, exc.message or str(exc.details), self._key),
                status=exc.code,
                retry_after=_retry_after(headers),
            ) from None
        except TIMEOUTS:
            raise AiTimeout(f"Gemini did not answer within {self._timeout:g} s") from None
        except TRANSPORT as exc:
            raise ProviderHttpError(
                provider_message("Gemini", None, f"could not connect: {exc}", self._key),
                status=None,
                retry_after=None,
            ) from None
        text = answer.text
        if not text:
            raise AiProviderFailed("Gemini returned no answer")
        meta = answer.usage_metadata
        return Completion(
            text=text,
            model=answer.model_version or model or self.model,
            usage=Usage(
                input_tokens=(meta.prompt_token_count or 0) if meta else 0,
                output_tokens=(meta.candidates_token_count or 0) if meta else 0,
            ),
        )
