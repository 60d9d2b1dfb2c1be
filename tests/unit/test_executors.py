"""Pure tests for executor argv and job environment rules (DESIGN section 5, P6, I1)."""

from __future__ import annotations

import shutil
import sys

import pytest

from hydra_jobs.worker.executors import (
    ExecutorUnavailable,
    _posix_shell,
    build_command,
    build_env,
    param_env_name,
)

SCRIPT = 'echo "$HYDRA_PARAM_X"; rm -rf "/tmp/a b"'


def test_shell_on_posix_is_bash_with_the_script_as_one_argument() -> None:
    bash = shutil.which("bash")
    assert bash is not None
    assert build_command("shell", SCRIPT, platform="linux") == [bash, "-c", SCRIPT]


def test_shell_falls_back_to_sh_without_bash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    _posix_shell.cache_clear()
    try:
        assert build_command("shell", SCRIPT, platform="linux") == ["/bin/sh", "-c", SCRIPT]
    finally:
        _posix_shell.cache_clear()


def test_shell_on_windows_is_cmd() -> None:
    assert build_command("shell", "dir", platform="win32") == ["cmd.exe", "/d", "/s", "/c", "dir"]


def test_python_uses_this_interpreter_unbuffered_by_default() -> None:
    assert build_command("python", "print(1)") == [sys.executable, "-u", "-c", "print(1)"]
    assert build_command("python", "print(1)", "/opt/py/bin/python3")[0] == "/opt/py/bin/python3"


def test_batch_runs_on_windows() -> None:
    assert build_command("batch", "echo hi", platform="win32") == ["cmd.exe", "/d", "/c", "echo hi"]


def test_batch_elsewhere_says_what_to_do() -> None:
    with pytest.raises(ExecutorUnavailable, match=r"batch jobs need a Windows worker.*runs linux"):
        build_command("batch", "echo hi", platform="linux")


def test_unknown_executor_lists_the_known_ones() -> None:
    with pytest.raises(ExecutorUnavailable, match="shell, python, batch"):
        build_command("perl", "print 1")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("region", "HYDRA_PARAM_REGION"),
        ("max-retries", "HYDRA_PARAM_MAX_RETRIES"),
        ("a.b c/d", "HYDRA_PARAM_A_B_C_D"),
        ("x; rm -rf /", "HYDRA_PARAM_X__RM__RF__"),
        ("Already_OK_9", "HYDRA_PARAM_ALREADY_OK_9"),
        ("ünï", "HYDRA_PARAM__N_"),
    ],
)
def test_param_env_name(name: str, expected: str) -> None:
    assert param_env_name(name) == expected


BASE = {
    "PATH": "/usr/bin",
    "HOME": "/home/w",
    "LANG": "C.UTF-8",
    "TZ": "UTC",
    "USER": "w",
    "REDIS_URL": "redis://x",
    "ADMIN_TOKEN": "t",
    "API_TOKEN": "t2",
    "OPENAI_API_KEY": "k",
    "DATABASE_URL": "postgresql://x",
    "PYTHONPATH": "/src",
    "SYSTEMROOT": "C:\\Windows",
}


def test_env_keeps_only_the_allow_listed_base() -> None:
    env = build_env(job_env={}, params={}, run_meta={}, base=BASE, platform="linux")
    assert env == {k: BASE[k] for k in ("PATH", "HOME", "LANG", "TZ", "USER")}


def test_env_on_windows_adds_system_variables_case_insensitively() -> None:
    base = {"Path": "C:\\bin", "SystemRoot": "C:\\Windows", "ComSpec": "cmd", "API_TOKEN": "t"}
    env = build_env(job_env={}, params={}, run_meta={}, base=base, platform="win32")
    assert env == {"Path": "C:\\bin", "SystemRoot": "C:\\Windows", "ComSpec": "cmd"}


def test_env_defaults_to_the_process_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "redis://secret")
    monkeypatch.setenv("PATH", "/x/bin")
    env = build_env(job_env={}, params={}, run_meta={})
    assert env["PATH"] == "/x/bin"
    assert "REDIS_URL" not in env


def test_env_layers_job_env_params_and_metadata() -> None:
    env = build_env(
        job_env={"PATH": "/job/bin", "MODE": "fast"},
        params={"region": "eu", "dry-run": "1"},
        run_meta={"run_id": "r1", "job_id": "j1", "attempt": "2"},
        base=BASE,
        platform="linux",
    )
    assert env["PATH"] == "/job/bin"  # the job may set its own PATH
    assert env["MODE"] == "fast"
    assert env["HYDRA_PARAM_REGION"] == "eu"
    assert env["HYDRA_PARAM_DRY_RUN"] == "1"
    assert (env["HYDRA_RUN_ID"], env["HYDRA_JOB_ID"], env["HYDRA_ATTEMPT"]) == ("r1", "j1", "2")


def test_job_env_cannot_set_or_spoof_hydra_variables() -> None:
    env = build_env(
        job_env={"HYDRA_RUN_ID": "forged", "hydra_attempt": "9", "HYDRA_PARAM_X": "forged"},
        params={},
        run_meta={"run_id": "real"},
        base={},
        platform="linux",
    )
    assert env == {"HYDRA_RUN_ID": "real"}


def test_params_are_never_interpreted() -> None:
    value = '"; touch /tmp/x #'
    env = build_env(job_env={}, params={"x": value}, run_meta={}, base={}, platform="linux")
    assert env == {"HYDRA_PARAM_X": value}
