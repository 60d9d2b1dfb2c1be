"""secret_env: a real process re-execs itself without its secrets and still gets their values."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hydra_jobs.secret_env import is_secret_name

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX re-exec")

# Prints, after shed_secrets, its pid, what it was handed, its environment block and argv as the
# kernel shows them to other processes.
PROBE = """
import json, os, sys
from hydra_jobs import secret_env
pid = os.getpid()
secret_env.shed_secrets()
block = open(f"/proc/{pid}/environ", "rb").read().decode()
argv = open(f"/proc/{pid}/cmdline", "rb").read().decode()
print(json.dumps({"pid": pid, "handed": secret_env.recovered(), "block": block, "argv": argv,
                  "env": dict(os.environ)}))
"""


def test_the_secrets_leave_the_environment_block_and_argv_but_reach_the_process() -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "ADMIN_TOKEN": "admin-secret-1",
        "redis_url": "redis://u:redis-secret-2@h/0",  # pydantic-settings ignores the case
        "OPENAI_API_KEY": "sk-secret-3",
        "GEMINI_API_KEY": "",  # Compose's ${GEMINI_API_KEY:-}: empty means unset
        "HYDRA_PORT": "8123",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["handed"] == {
        "ADMIN_TOKEN": "admin-secret-1",
        "REDIS_URL": "redis://u:redis-secret-2@h/0",
        "OPENAI_API_KEY": "sk-secret-3",
    }
    for place in ("block", "argv"):
        for secret in ("admin-secret-1", "redis-secret-2", "sk-secret-3"):
            assert secret not in seen[place]
    assert "HYDRA_PORT=8123" in seen["block"]  # everything else is kept
    assert not any(is_secret_name(k) for k in seen["env"])  # nor can a child inherit them
    assert "HYDRA_SECRETS_FD" not in seen["env"]


def test_secret_names_are_matched_without_case() -> None:
    assert is_secret_name("Admin_Token") and is_secret_name("DATABASE_URL")
    assert not is_secret_name("HYDRA_DATA_DIR")
