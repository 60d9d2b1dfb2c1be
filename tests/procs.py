"""Run `hydra-jobs` as a real process, the way users do."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import ADMIN, free_port, wait_for

HYDRA = str(Path(sys.executable).parent / "hydra-jobs")


def cli_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"ADMIN_TOKEN", "API_TOKEN", "REDIS_URL", "DATABASE_URL", "MONGO_URL"}
    }
    env.update(extra)
    return env


class UpProcess:
    """`hydra-jobs up` in its own process group, on a free port, with a data dir of the test's."""

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        runner: tuple[str, ...] = (),
        cwd: Path | None = None,
        args: tuple[str, ...] = (),
        **env: str,
    ) -> None:
        self.data_dir = data_dir
        self.args = args  # more options of `up` (e.g. --create-db)
        self.cwd = cwd
        self.runner = runner  # a command that runs `up` (e.g. setpriv as another user)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = cli_env(
            ADMIN_TOKEN=ADMIN, HYDRA_KILL_GRACE_SECONDS="1", HYDRA_DRAIN_GRACE_SECONDS="1", **env
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = data_dir / "up.log"
        self.nofile: tuple[int, int] | None = None  # (soft, hard) RLIMIT_NOFILE to start with

    def start(self) -> UpProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as log:
            argv = [
                *(HYDRA, "up", "--port", str(self.port), "--data-dir", str(self.data_dir)),
                *self.args,
            ]
            self.proc = subprocess.Popen(
                [*self.runner, *argv],
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=self._limit if self.nofile else None,
            )
        wait_for(self._healthy, 30, 0.05, message=f"hydra-jobs up on {self.port}")
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _limit(self) -> None:
        assert self.nofile is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, self.nofile)

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"up exited: {self.log.read_text()}")
        try:
            return httpx.get(self.url + "/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def cli(
        self,
        *args: str,
        timeout: float = 30,
        env: dict[str, str] | None = None,
        input_text: str | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [HYDRA, *args],
            env={**self.env, "HYDRA_URL": self.url, **(env or {})},
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
