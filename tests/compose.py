"""Read the repository's Compose files the way `docker compose` does, for tests without Docker.

`load(files, variables)` parses the files, merges them in order (an override file's mappings merge
into the base, anything else replaces), and interpolates `${VAR}`, `${VAR:-default}`,
`${VAR-default}`, `${VAR:?error}`, `${VAR?error}` and `$$` from `variables`, as Compose does from
`.env` and the shell. `dockerfile_env(stage)` gives the `ENV` a Dockerfile stage sets, so a service
runs here with what its container would have.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\})"
)


class MissingVariable(Exception):
    """A `${VAR:?message}` whose variable is unset (Compose refuses to start)."""


def interpolate(value: Any, variables: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {k: interpolate(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, variables) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name, op, arg = match["name"], match["op"], match["arg"]
        current = variables.get(name)
        unset = current is None or (current == "" and op is not None and op.startswith(":"))
        if op in (":-", "-"):
            return interpolate(arg, variables) if unset else str(current)
        if op in (":?", "?"):
            if unset:
                raise MissingVariable(f"{name}: {arg}")
            return str(current)
        return current or ""

    return _VARIABLE.sub(substitute, value)


def merge(base: Any, override: Any) -> Any:
    """Compose's merge of an override file, for what these files use: mappings merge key by key
    (services, environment, depends_on, volumes), anything else is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = merge(base[key], value) if key in base else value
        return merged
    return override


def load(files: list[str], variables: dict[str, str]) -> dict[str, Any]:
    project: dict[str, Any] = {}
    for name in files:
        project = merge(project, yaml.safe_load((ROOT / name).read_text()))
    result: dict[str, Any] = interpolate(project, variables)
    return result


def enabled_services(project: dict[str, Any], profiles: frozenset[str] = frozenset()) -> set[str]:
    """Services `docker compose up` starts: those with no profile or an active one."""
    return {
        name
        for name, service in project["services"].items()
        if not service.get("profiles") or set(service["profiles"]) & profiles
    }


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def command(service: dict[str, Any]) -> list[str]:
    cmd = service["command"]
    return list(cmd) if isinstance(cmd, list) else shlex.split(cmd)


def healthcheck(service: dict[str, Any]) -> list[str]:
    """The healthcheck's argv (its `CMD` form)."""
    test = service["healthcheck"]["test"]
    assert test[0] == "CMD", f"healthcheck {test!r}: only the CMD form is run here"
    return list(test[1:])


def dockerfile_env(stage: str) -> dict[str, str]:
    """`ENV` of a Dockerfile stage and the stages it is built `FROM` (key=value form only)."""
    stages: dict[str, tuple[str | None, dict[str, str]]] = {}
    current: str | None = None
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    for line in text.splitlines():
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0].upper() == "FROM":
            current = words[-1] if len(words) >= 4 and words[-2].upper() == "AS" else None
            if current is not None:
                stages[current] = (words[1] if words[1] in stages else None, {})
        elif words[0].upper() == "ENV" and current is not None:
            for pair in shlex.split(line.split(None, 1)[1]):
                key, _, value = pair.partition("=")
                stages[current][1][key] = value
    env: dict[str, str] = {}
    chain: str | None = stage
    while chain is not None:
        parent, own = stages[chain]
        env = {**own, **env}
        chain = parent
    return env
