""" "Did you mean" for a field a model does not have: `timeout` -> `timeout_seconds`; and the
rule of a name in words where pydantic quotes its regular expression.

Pydantic says only "Extra inputs are not permitted"; the fields the model does have, at the same
place in the document, are the likely intent of a typo or a guess. For a name that breaks its
pattern it says "String should match pattern '^[A-Za-z0-9][A-Za-z0-9 _.:@/-]{0,199}$'".
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from hydra_jobs.alerts import CHANNEL_NAME_PATTERN
from hydra_jobs.job_spec import NAME_PATTERN
from hydra_jobs.tenancy import DOMAIN_PATTERN, TOKEN_NAME_PATTERN

# Each name pattern, in words.
PATTERN_WORDS = {
    NAME_PATTERN: "letters, digits, spaces and _ . : @ / -, starting with a letter or a digit; "
    "at most 200 characters",
    TOKEN_NAME_PATTERN: "letters, digits, spaces and _ . : @ / -, starting with a letter or a "
    "digit; at most 100 characters",
    DOMAIN_PATTERN: "lowercase letters, digits, _ and -, starting with a letter or a digit; at "
    "most 64 characters",
    CHANNEL_NAME_PATTERN: "letters, digits, _ . and -, starting with a letter or a digit; at most "
    "64 characters",
}


def in_words(error: dict[str, Any]) -> dict[str, Any]:
    """`error` with a name pattern it quotes put in words (other errors as they are)."""
    pattern = (error.get("ctx") or {}).get("pattern")
    if error.get("type") != "string_pattern_mismatch" or pattern not in PATTERN_WORDS:
        return error
    return {**error, "msg": f"Use {PATTERN_WORDS[pattern]}"}


def with_hint(error: dict[str, Any], root: type[BaseModel], *, skip: int = 0) -> dict[str, Any]:
    """`error` (one of pydantic's, as a dict), with a suggestion added to the message of an
    unknown field when `root` has a close one at that place. `skip`: leading `loc` parts that
    are not fields (FastAPI's "body")."""
    loc = tuple(error.get("loc") or ())[skip:]
    if error.get("type") != "extra_forbidden" or not loc or not isinstance(loc[-1], str):
        return error
    model = _model_at(root, loc[:-1])
    if model is None:
        return error
    names = [f.alias or name for name, f in model.model_fields.items()]
    # A field is also known by its first word: `timout` is close to `timeout`, not to
    # `timeout_seconds` as a whole.
    known = {n.split("_")[0]: n for n in names if "_" in n} | {name: name for name in names}
    close = difflib.get_close_matches(loc[-1], list(known), n=1, cutoff=0.6)
    if not close:
        return error
    return {**error, "msg": f"{error['msg']}; did you mean '{known[close[0]]}'?"}


def _model_at(root: type[BaseModel], path: Sequence[Any]) -> type[BaseModel] | None:
    current: Any = root
    for part in path:
        model = _model_in(current)
        if model is not None and isinstance(part, str) and part in model.model_fields:
            current = model.model_fields[part].annotation
        elif (item := _item_type(current)) is not None:  # a dict key or a list index
            current = item
        else:
            return None
    return _model_in(current)


def _item_type(annotation: Any) -> Any:
    """What a dict or list field holds (through Optional), or None."""
    origin = typing.get_origin(annotation)
    if origin is dict:
        return typing.get_args(annotation)[1]
    if origin is list:
        return typing.get_args(annotation)[0]
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if (found := _item_type(arg)) is not None:
                return found
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model a field holds, through Optional and Annotated."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            if (found := _model_in(arg)) is not None:
                return found
    return None
