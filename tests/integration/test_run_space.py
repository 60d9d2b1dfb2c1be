"""Where a run's space is made and removed: on the event loop while the disk is fast and the
space is empty, in a thread for what a job left behind or on a slow disk (run_space.py)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hydra_jobs.worker import run_space
from hydra_jobs.worker.run_as import RunAs
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


def test_a_runs_dir_it_cannot_use_lets_the_worker_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The timing probe must not turn a bad runs dir into a worker that will not start: each
    run's spawn fails and says why, as before the probe."""

    def refused(_self: RunSpaces, _prefix: str) -> tuple[Path, int]:
        raise PermissionError(13, "Permission denied", str(tmp_path / "runs"))

    monkeypatch.setattr(RunSpaces, "_reserve", refused)
    spaces = RunSpaces(tmp_path / "runs", None)
    assert not spaces.on_loop and "cannot make a run space" in caplog.text


@pytest.mark.usefixtures("fast_disk")
async def test_a_space_that_cannot_be_handed_over_is_not_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs_user = RunAs("jobs", os.getuid(), os.getgid(), "/nonexistent")
    spaces = RunSpaces(tmp_path / "runs", jobs_user)
    opened = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None

    def refused(_path: Path, _user: RunAs) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(run_space, "give_to", refused)
    with pytest.raises(PermissionError):
        async with spaces.open("run-4"):
            pass
    assert list(spaces.root.iterdir()) == []
    if opened is not None:
        assert len(os.listdir("/proc/self/fd")) == opened  # its lock's descriptor is closed too


@pytest.mark.usefixtures("fast_disk")
async def test_a_disk_that_turns_slow_moves_spaces_off_the_loop(
    tmp_path: Path, hops: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spaces = RunSpaces(tmp_path / "runs", None)
    assert spaces.on_loop
    real = RunSpaces._reserve

    def slow(self: RunSpaces, prefix: str) -> tuple[Path, int]:
        time.sleep(run_space.SLOW_CALL_SECONDS * 1.5)  # the disk of a busy journal
        return real(self, prefix)

    monkeypatch.setattr(RunSpaces, "_reserve", slow)
    for i in range(run_space.SLOW_CALLS):
        assert spaces.on_loop
        async with spaces.open(f"slow-{i}"):
            pass
    # Those reservations were on the loop; the third one's removal already was not.
    assert not spaces.on_loop and hops == ["_release"]
    async with spaces.open("after"):
        pass
    assert hops == ["_release", "slow", "_release"]  # `slow` is the patched _reserve, in a thread
    assert list(spaces.root.iterdir()) == []
