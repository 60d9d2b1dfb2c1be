"""How a job's inputs are named where it runs, as the API and the worker both read them.

Parameters reach a job as environment variables `HYDRA_PARAM_<NAME>`; every `HYDRA_*` name is
reserved for them and the run's facts (a job's own env may not set one); a script whose first two
characters are `#!` names its interpreter. The API checks specs by these rules (`job_spec.py`: two
parameters that would land in one variable, a script too long for one argument unless it runs
from a file) and the worker builds runs by them (`worker/executors.py`), so the two cannot differ.
"""

from __future__ import annotations

import re

RESERVED_ENV_PREFIX = "HYDRA_"
PARAM_ENV_PREFIX = "HYDRA_PARAM_"
SHEBANG = "#!"

_NOT_ENV_NAME_CHARS = re.compile(r"[^A-Z0-9_]")


def env_suffix(name: str) -> str:
    """`name` as the tail of an environment variable's name: upper case, `_` for the rest."""
    return _NOT_ENV_NAME_CHARS.sub("_", name.upper())


def param_env_name(name: str) -> str:
    """Name of the environment variable that carries parameter `name` (HYDRA_PARAM_<NAME>)."""
    return PARAM_ENV_PREFIX + env_suffix(name)


def shebang(script: str) -> str | None:
    """The interpreter line of `script` (what follows `#!` on the first line), or None.

    As for the kernel, `#!` counts only as the script's very first two characters.
    """
    if not script.startswith(SHEBANG):
        return None
    return script[len(SHEBANG) :].split("\n", 1)[0].strip(" \t")
