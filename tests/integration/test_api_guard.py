"""Issue 13 §5: what a client without a valid token can do to a real `up` process."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.procs import HYDRA, cli_env


def test_up_and_scheduler_refuse_the_same_short_admin_token(tmp_path: Path) -> None:
    for command in ("up", "scheduler"):
        env = cli_env(
            ADMIN_TOKEN="abc", HYDRA_DATA_DIR=str(tmp_path), REDIS_URL="redis://127.0.0.1:9"
        )
        if command == "up":
            env.pop("REDIS_URL")
        result = subprocess.run(
            [HYDRA, command, "--port", "9"], env=env, capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert "at least 32 characters" in result.stderr, command
        assert not (tmp_path / "hydra.db").exists(), f"{command} started before refusing"
