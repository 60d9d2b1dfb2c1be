"""The examples the README points to, run as a user runs them, against a real `hydra-jobs up`."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import ADMIN
from tests.procs import UpProcess, cli_env

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UpProcess]:
    proc = UpProcess(tmp_path_factory.mktemp("examples") / "data").start()
    yield proc
    proc.stop()


def example(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=cli_env(HYDRA_TOKEN=ADMIN, HYDRA_URL=url),
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_submit_job_creates_runs_and_streams_a_job(up: UpProcess) -> None:
    done = example(
        "examples/submit_job.py", "examples/jobs/hello.json", "--param", "who=you", url=up.url
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("hello, you (run ")
    assert "-> succeeded (exit 0)" in done.stderr
    again = example("examples/submit_job.py", "examples/jobs/hello.json", url=up.url)
    assert again.returncode == 0 and again.stdout.startswith("hello, world")
    jobs = httpx.get(f"{up.url}/api/v1/jobs", headers={"Authorization": f"Bearer {ADMIN}"}).json()
    assert [j["name"] for j in jobs["items"]].count("hello") == 1  # replaced, not duplicated


def test_seed_test_jobs_creates_the_demo_jobs(up: UpProcess) -> None:
    done = example("examples/seed_test_jobs.py", url=up.url)
    assert done.returncode == 0, done.stderr
    assert "seeded" in done.stdout
    headers = {"Authorization": f"Bearer {ADMIN}"}
    names = {j["name"] for j in httpx.get(f"{up.url}/api/v1/jobs", headers=headers).json()["items"]}
    assert {"demo-hello", "demo-bash", "demo-python", "demo-every-minute"} <= names


@pytest.mark.parametrize(
    "script",
    [["examples/submit_job.py", "examples/jobs/hello.json"], ["examples/seed_test_jobs.py"]],
)
def test_an_example_without_a_scheduler_says_what_to_do(script: list[str]) -> None:
    done = example(*script, url="http://127.0.0.1:9")
    assert done.returncode == 1
    assert "cannot reach Hydra Jobs at http://127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr and "dev-up.sh" in done.stderr
