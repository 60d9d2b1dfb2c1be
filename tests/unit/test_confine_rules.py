"""confine: which paths a confined job is granted, and what the worker does without Landlock."""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path

import pytest

from hydra_jobs.config import Settings
from hydra_jobs.errors import ConfigError
from hydra_jobs.worker import confine, landlock, settings
from hydra_jobs.worker.confine import ConfineMode, Confiner, allowed_paths


def tree(root: Path, *paths: str) -> None:
    for path in paths:
        target = root / path
        if path.endswith("/"):
            target.mkdir(parents=True, exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("x")


def test_everything_but_the_hidden_paths_and_their_way_down_is_granted(tmp_path: Path) -> None:
    tree(tmp_path, "home/.local/share/hydra/hydra.db", "home/notes.txt", "home/work/", "etc/")
    tree(tmp_path, "home/.local/share/hydra/runs/r1/", "home/.local/share/other/")
    data = str(tmp_path / "home/.local/share/hydra")
    own_run = str(tmp_path / "home/.local/share/hydra/runs/r1")
    granted = set(allowed_paths([data, data + "/runs"], [own_run]))
    # Beside the way down: granted whole. On the way: only the entries, never the directory.
    assert {str(tmp_path / p) for p in ("home/notes.txt", "home/work", "etc")} <= granted
    assert str(tmp_path / "home/.local/share/other") in granted
    for step in ("", "home", "home/.local", "home/.local/share"):
        assert str(tmp_path / step).rstrip("/") not in granted
    # The hidden directory is not granted, nor is anything in it except the run's own space.
    assert not any(p == data or p.startswith(data + "/") for p in granted - {own_run})
    assert own_run in granted


def test_a_granted_path_that_leads_to_a_hidden_one_is_not_granted(tmp_path: Path) -> None:
    tree(tmp_path, "a/secret/", "a/b/")
    granted = allowed_paths([str(tmp_path / "a/secret")], [str(tmp_path / "a")])
    assert str(tmp_path / "a") not in granted and str(tmp_path / "a/b") in granted


def test_without_landlock_auto_warns_once_and_required_refuses(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    monkeypatch.setattr(landlock, "abi_version", lambda: 0)
    with caplog.at_level(logging.WARNING, logger=confine.__name__):
        assert Confiner.for_worker(ConfineMode.AUTO, [tmp_path], tmp_path / "runs") is None
    assert [r.message for r in caplog.records if "unconfined" in r.message]
    with pytest.raises(ConfigError, match="HYDRA_CONFINE=required"):
        settings.worker_config(Settings(HYDRA_CONFINE="required", HYDRA_DATA_DIR=tmp_path))
    assert Confiner.for_worker(ConfineMode.OFF, [tmp_path], tmp_path / "runs") is None


def test_the_worker_hides_its_data_dir_git_cache_database_and_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("")
    config = settings.worker_config(
        Settings(
            HYDRA_DATA_DIR=tmp_path / "data",
            HYDRA_GIT_CACHE_DIR=tmp_path / "cache",
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'db' / 'h.db'}",
            HYDRA_CONFINE_HIDE=f"{tmp_path / 'etc-hydra'}",
        )
    )
    assert config.confine is ConfineMode.AUTO
    hidden = set(config.hidden_paths)
    assert {tmp_path / "data", tmp_path / "cache", tmp_path / ".env"} <= hidden
    assert {tmp_path / "db/h.db", tmp_path / "db/h.db-wal", tmp_path / "etc-hydra"} <= hidden
    assert config.runs_dir == tmp_path / "data" / "runs"


@pytest.mark.skipif(landlock.abi_version() == 0, reason="needs Landlock")
def test_the_kept_grants_follow_a_change_of_the_directories_on_the_way(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tree(tmp_path, "step/hidden/secret", "step/old")
    # Timestamps as old as they come: /tmp and pytest's directories change all the time here.
    monkeypatch.setattr(confine, "MTIME_SETTLE_NS", 0)
    confiner = Confiner(landlock.abi_version(), [tmp_path / "step/hidden"], tmp_path / "runs")
    # Watched: the steps of the test's own tree. /tmp and pytest's directories above it change
    # whenever any other process of the machine makes a file there (a second scan, not a bug),
    # and a /tmp with more entries than the cache keeps open is never cached (a full suite run
    # leaves that many): the reuse is what this test is about.
    confiner.base.steps = [s for s in confiner.base.steps if s.startswith(str(tmp_path))]
    monkeypatch.setattr(confine, "CACHE_MAX_RULES", 1_000_000)
    scans = []
    real = confine.allowed_paths
    monkeypatch.setattr(confine, "allowed_paths", lambda *a: scans.append(1) or real(*a))

    def cat(name: str) -> int:
        sandbox = confiner.sandbox([])
        argv = ["cat", str(tmp_path / "step" / name)]
        proc = sandbox.spawn(lambda: subprocess.Popen(argv, stdout=subprocess.DEVNULL))
        return proc.wait(10)

    assert cat("old") == 0 and cat("hidden/secret") != 0
    assert len(scans) == 1  # the second spawn reused the grants
    before = (tmp_path / "step").stat().st_mtime_ns
    (tmp_path / "step/new").write_text("x")  # the directory changes: the grants are rebuilt
    # (a coarse clock may give it the same mtime as before: the settling time covers that in
    # the product, switched off here, so make the change visible)
    os.utime(tmp_path / "step", ns=(before + 10**9, before + 10**9))
    assert cat("new") == 0 and cat("hidden/secret") != 0
    assert len(scans) >= 2
