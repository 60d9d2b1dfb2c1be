"""`hydra-jobs channels ...` and `snooze` against a running `hydra-jobs up`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hydra_jobs.client import Client
from tests.conftest import ADMIN
from tests.procs import UpProcess
from tests.receivers import HttpReceiver

SECRET = "cli-secret-given-on-stdin-0123"


@pytest.fixture
def up(tmp_path: Path) -> Iterator[UpProcess]:
    proc = UpProcess(
        tmp_path / "data",
        HYDRA_NOTIFY_ALLOW_PRIVATE_HOSTS="true",
        HYDRA_NOTIFY_RETRY_SECONDS="0.2",
        HYDRA_NOTIFY_MAX_ATTEMPTS="2",
    ).start()
    yield proc
    proc.stop()


def test_channels_commands(up: UpProcess) -> None:
    receiver = HttpReceiver()
    try:
        added = up.cli(
            "channels",
            "add",
            "ops",
            "--type",
            "webhook",
            "--webhook-url",
            receiver.url,
            "--secret",
            "-",
            input_text=SECRET + "\n",
        )
        assert added.returncode == 0, added.stderr
        assert "ops (webhook)" in added.stdout and SECRET not in added.stdout
        listed = up.cli("channels", "list")
        assert "ops" in listed.stdout and "set" in listed.stdout and SECRET not in listed.stdout

        tested = up.cli("channels", "test", "ops")
        assert tested.returncode == 0 and "sent after 1 attempt(s)" in tested.stdout, tested.stdout
        assert receiver.requests[0].headers["X-Hydra-Signature"].startswith("sha256=")
        log = up.cli("channels", "deliveries", "ops")
        assert "test" in log.stdout and "sent" in log.stdout and "200" in log.stdout

        receiver.failing = True
        failed = up.cli("channels", "test", "ops")
        assert failed.returncode == 1 and "failed after 2 attempt(s)" in failed.stdout

        missing = up.cli("channels", "add", "x", "--type", "email", "--host", "smtp.example.org")
        assert missing.returncode == 1 and "--sender" in missing.stderr
        assert up.cli("channels", "delete", "ops").returncode == 0
        gone = up.cli("channels", "test", "ops")
        assert gone.returncode == 1 and "not found" in gone.stderr
    finally:
        receiver.close()


def test_snooze_command(up: UpProcess) -> None:
    with Client(up.url, ADMIN) as client:
        client.create_job({"name": "noisy", "executor": {"type": "shell", "script": "true"}})
        done = up.cli("snooze", "noisy", "--until", "2h", "--reason", "deploy")
        assert done.returncode == 0 and "alerts muted until" in done.stdout, done.stderr
        [snooze] = client.snoozes()
        assert snooze["reason"] == "deploy"
        assert up.cli("snooze", "noisy", "--off").returncode == 0
        assert client.snoozes() == []
        bad = up.cli("snooze", "noisy", "--until", "soon")
        assert bad.returncode == 1 and "duration" in bad.stderr
        past = up.cli("snooze", "noisy", "--until", "2020-01-01T00:00:00Z")
        assert past.returncode == 1 and "future" in past.stderr
