"""HYDRA_CGROUPS reaches all a worker runs: the jobs and the git commands of their sources."""

from __future__ import annotations

import pytest

from hydra_jobs.config import Settings
from hydra_jobs.worker.settings import worker_config


def test_hydra_cgroups_false_reaches_jobs_and_git(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HYDRA_CGROUPS", raising=False)
    default = worker_config(Settings())
    assert (default.cgroups, default.git.cgroups) == (True, True)

    monkeypatch.setenv("HYDRA_CGROUPS", "false")
    off = worker_config(Settings())
    assert (off.cgroups, off.git.cgroups) == (False, False)
