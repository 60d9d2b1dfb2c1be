"""Where a run's space is made and removed: on the event loop while the disk is fast and the
space is empty, in a thread for what a job left behind or on a slow disk (run_space.py)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hydra_jobs.worker import run_space
from hydra_jobs.worker.run_space import RunSpaces

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="run spaces are POSIX only")


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the calls `run_space` sent to a thread."""
    sent: list[str] = []
    real = asyncio.to_thread

    async def recording(call: Callable[..., Any], *args: Any) -> Any:
        sent.append(call.__name__)
        return await real(call, *args)

    monkeypatch.setattr(run_space.asyncio, "to_thread", recording)
    return sent


@pytest.fixture
def fast_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any disk counts as fast (a busy test machine must not make the timing decide)."""
    monkeypatch.setattr(run_space, "SLOW_DISK_SECONDS", 1.0)


@pytest.mark.usefixtures("fast_disk")
async def test_an_empty_space_is_made_and_removed_on_the_loop(
    tmp_path: Path, hops: list[str]
) -> None:
    spaces = RunSpaces(tmp_path / "runs", None)
    assert spaces.on_loop
    assert list(spaces.root.iterdir()) == []  # the timing probes left nothing
    async with spaces.open("run-1") as space:
        assert space.is_dir() and space.name.startswith("hydra-run-run-1-")
        assert space.stat().st_mode & 0o777 == 0o700
    assert not space.exists() and hops == []


@pytest.mark.usefixtures("fast_disk")
async def test_what_a_job_left_is_removed_in_a_thread(tmp_path: Path, hops: list[str]) -> None:
    spaces = RunSpaces(tmp_path / "runs", None)
    async with spaces.open("run-2") as space:
        deep = space / "a" / "b"
        deep.mkdir(parents=True)
        for i in range(50):
            (deep / f"f{i}").write_text("left behind")
    assert not space.exists() and hops == ["_release"]


async def test_on_a_slow_disk_both_ends_are_off_the_loop(
    tmp_path: Path, hops: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run_space, "SLOW_DISK_SECONDS", 0.0)  # every disk is slow now
    spaces = RunSpaces(tmp_path / "runs", None)
    assert not spaces.on_loop
    async with spaces.open("run-3") as space:
        assert space.is_dir()
    assert not space.exists() and hops == ["_reserve", "_release"]
    assert list(spaces.root.iterdir()) == []
