"""OpenAI (or any OpenAI-compatible server: Ollama, vLLM, LM Studio, gateways) on the official SDK.

Chat completions with a `json_schema` response format. The SDK's retries are off (`retry.py`
retries both providers alike); its errors become ours with the key masked.
"""

from __future__ import annotations

from typing import Literal

import openai
from pydantic import BaseModel

from hydra_jobs.errors import AiProviderFailed, AiTimeout
from hydra_jobs.scheduler.ai.providers.base import Completion, ProviderHttpError, provider_message
from hydra_jobs.scheduler.ai.providers.base import retry_after_seconds as _retry_after
from hydra_jobs.scheduler.ai.schema import Usage

DEFAULT_MODEL = "gpt-5-mini"


class OpenAIProvider:
    name: Literal["openai"] = "openai"

    def __init__(self, key: str, *, model: str, base_url: str | None, timeout: float) -> None:
        self.model = model
        self._key = key
        self._timeout = timeout
        self.client = openai.AsyncOpenAI(
            api_key=key, base_url=base_url, timeout=timeout, max_retries=0
        )

    async def complete_json(
        self,
        system: str,
        user: str,
        schema: type[BaseModel],
        schema_name: str,
        model: str | None = None,
    ) -> Completion:
        try:
            answer = await self.client.chat.completions.create(
                model=model or self.model,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": user},
                ],
                response_format={
                    "type": "json_schema",
                    "json_schema": {
                        "name": schema_name,
                        "schema": schema.model_json_schema(),
                        "strict": False,  # strict needs every field required: not our specs
                    },
                },
            )
        except openai.APITimeoutError:
            raise AiTimeout(f"OpenAI did not answer within {self._timeout:g} s") from None
        except openai.APIStatusError as exc:
            message = _message_of(exc)
            raise ProviderHttpError(
                provider_message("OpenAI", exc.status_code, message, self._key),
                status=exc.status_code,
                retry_after=_retry_after(exc.response.headers),
            ) from None
        except openai.APIConnectionError as exc:
            raise ProviderHttpError(
                provider_message("OpenAI", None, f"could not connect: {exc}", self._key),
                status=None,
                retry_after=None,
            ) from None
        if not answer.choices:
            raise AiProviderFailed("OpenAI returned no answer")
        usage = answer.usage
        return Completion(
            text=answer.choices[0].message.content or "",
            model=answer.model or model or self.model,
            usage=Usage(
                input_tokens=usage.prompt_tokens if usage else 0,
                output_tokens=usage.completion_tokens if usage else 0,
            ),
        )


def _message_of(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return str(inner["message"])
    return exc.message
