"""Issue 13 §5: what a client without a valid token can do to a real `up` process.

Real sockets on loopback against `hydra-jobs up`; 127.0.0.2 stands for a second client address
(all of 127/8 is loopback on Linux).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN
from tests.procs import HYDRA, UpProcess, cli_env

API = "/api/v1"


@pytest.fixture
def up(tmp_path: Path) -> Iterator[UpProcess]:
    proc = UpProcess(tmp_path / "up").start()
    yield proc
    proc.stop()


def _client(url: str, source: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(
        base_url=url + API, transport=httpx.HTTPTransport(local_address=source), timeout=10
    )


def test_wrong_tokens_are_throttled_per_address_and_valid_ones_never(up: UpProcess) -> None:
    wrong = {"Authorization": "Bearer not-a-token"}
    admin = {"Authorization": f"Bearer {ADMIN}"}
    with _client(up.url) as attacker, _client(up.url, "127.0.0.2") as other:
        codes: list[int] = []
        slowest = 0.0
        for _ in range(200):  # bounded: the throttle answers 429 long before
            started = time.monotonic()
            response = attacker.get("/jobs", headers=wrong)
            slowest = max(slowest, time.monotonic() - started)
            codes.append(response.status_code)
            if response.status_code == 429:
                break
        assert codes[-1] == 429, f"{len(codes)} wrong tokens, never a 429"
        assert set(codes[:-1]) == {401}
        assert slowest >= 0.5, "no growing delay before the 429"
        retry_after = int(response.headers["Retry-After"])
        assert 1 <= retry_after <= 400
        assert "try again" in response.json()["detail"]
        # Locked: more wrong tokens get 429 at once.
        started = time.monotonic()
        assert attacker.get("/jobs", headers=wrong).status_code == 429
        assert time.monotonic() - started < 0.5
        # A valid token from the same address is neither slowed nor refused.
        for _ in range(5):
            started = time.monotonic()
            assert attacker.get("/jobs", headers=admin).status_code == 200
            assert time.monotonic() - started < 0.5
        # Another address is not locked out: its first wrong token is a plain, prompt 401.
        started = time.monotonic()
        assert other.get("/jobs", headers=wrong).status_code == 401
        assert time.monotonic() - started < 0.5
        assert other.get("/jobs", headers=admin).status_code == 200


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
