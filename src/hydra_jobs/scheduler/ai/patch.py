"""JSON merge patches (RFC 7386) of a job spec: how a suggested change is applied for checking.

A suggested patch is never saved or run by the server; it is applied to a copy of the spec only to
tell the person looking at it whether the result would validate.
"""

from __future__ import annotations

from typing import Any


def merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result
