"""Rules every API input obeys, enforced once for all routes rather than field by field.

- No string holds a NUL: not a path segment, not a query parameter, not a JSON body string or key.
  No job can use one (an argument or environment string ends at NUL) and PostgreSQL's text cannot
  store one, so it is refused here, naming the field, instead of failing in the store (a 500) or
  when the run starts.
- A 422 can always be rendered: JSON has no NaN or Infinity, but Python's parser reads them (and
  1e400 as infinity), and an error that quotes such an input back must still be valid JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import Request

from hydra_jobs.errors import InvalidInput

NUL = "\x00"
NUL_IN_JSON = b"\\u0000"  # the only way JSON can spell NUL (a raw NUL byte is not JSON)
NUL_REFUSED = "must not contain a NUL character (\\u0000)"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


async def reject_nul(request: Request) -> None:
    """A dependency of every API route: 422 naming the first path, query or body field with NUL."""
    for name, value in request.path_params.items():
        if isinstance(value, str) and NUL in value:
            raise InvalidInput(NUL_REFUSED, loc=("path", name))
    for name, value in request.query_params.multi_items():
        if NUL in name or NUL in value:
            raise InvalidInput(NUL_REFUSED, loc=("query", name))
    if request.method in BODY_METHODS:
        body = await request.body()  # read once per request: FastAPI reuses it
        if NUL_IN_JSON in body:  # rare, and a backslash before it may make it plain text
            try:
                parsed = json.loads(body)
            except ValueError:
                return  # not JSON: the route's own parsing says so
            where = nul_at(parsed)
            if where is not None:
                raise InvalidInput(NUL_REFUSED, loc=("body", *where))


def nul_at(value: Any) -> tuple[str | int, ...] | None:
    """Where in a parsed JSON document a string (value or key) holds NUL, or None."""
    if isinstance(value, str):
        return () if NUL in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            if NUL in key:
                return (key,)
            if (inner := nul_at(item)) is not None:
                return (key, *inner)
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (inner := nul_at(item)) is not None:
                return (index, *inner)
    return None


def json_safe(value: Any) -> Any:
    """`value` (already made of JSON types) with NaN and infinities spelled as JSON strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_safe(item) for item in value]
    return value
