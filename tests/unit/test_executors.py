"""Tests for executor commands, the default shell and the job environment (P6, I1 in
docs/reliability.md). `build_command` and `build_env` are pure; `resolve_shell` and `script_file`
touch only the file system."""

from __future__ import annotations

import os
import shutil
import stat
import sys
import tempfile
from pathlib import Path

import pytest

from hydra_jobs.config import Settings
from hydra_jobs.errors import ConfigError
from hydra_jobs.job_env import param_env_name, shebang
from hydra_jobs.worker.executors import (
    Command,
    ExecutorUnavailable,
    build_command,
    build_env,
    explain_spawn_failure,
    resolve_shell,
    script_file,
)
from hydra_jobs.worker.settings import worker_config

SCRIPT = 'echo "$HYDRA_PARAM_X"; rm -rf "/tmp/a b"'


def test_shell_on_posix_is_sh_with_the_script_as_one_argument() -> None:
    assert build_command("shell", SCRIPT, platform="linux") == Command(["/bin/sh", "-c", SCRIPT])


def test_shell_uses_the_workers_default_shell() -> None:
    command = build_command("shell", SCRIPT, shell="/usr/bin/bash", platform="linux")
    assert command == Command(["/usr/bin/bash", "-c", SCRIPT])


@pytest.mark.parametrize(
    "script",
    [
        "#!/bin/bash\n[[ 1 == 1 ]] && echo yes",
        "#!/usr/bin/env python3\nprint(1)",
        "#! /usr/bin/perl -w\nprint 1;",
        "#!/bin/sh",  # one line, no newline
    ],
)
def test_a_shebang_script_is_written_to_a_file_and_executed(script: str) -> None:
    command = build_command("shell", script, shell="/usr/bin/bash", platform="linux")
    assert command == Command(script_file=script)


@pytest.mark.parametrize(
    "script",
    [
        "\n#!/bin/bash\necho hi",  # a leading blank line
        "echo hi\n#!/bin/bash",  # #! on line 2
        " #!/bin/bash\necho hi",  # not the very first characters
        "# !/bin/bash\necho hi",
        "#/bin/bash\necho hi",
    ],
)
def test_only_the_first_two_characters_make_a_shebang(script: str) -> None:
    assert shebang(script) is None
    assert build_command("shell", script, platform="linux") == Command(["/bin/sh", "-c", script])


@pytest.mark.parametrize(
    ("script", "line"),
    [
        ("#!/bin/bash\necho", "/bin/bash"),
        ("#!  /usr/bin/env python3 \nprint(1)", "/usr/bin/env python3"),
        ("#!/bin/bash\r\necho", "/bin/bash\r"),  # as the kernel reads it
        ("#!", ""),
    ],
)
def test_shebang_line(script: str, line: str) -> None:
    assert shebang(script) == line


def test_shell_on_windows_is_cmd_whatever_the_first_line() -> None:
    for script in ("dir", "#!/bin/bash\ndir"):
        command = build_command("shell", script, shell="/usr/bin/bash", platform="win32")
        assert command == Command(["cmd.exe", "/d", "/s", "/c", script])


def test_python_uses_this_interpreter_unbuffered_by_default() -> None:
    assert build_command("python", "print(1)").argv == [sys.executable, "-u", "-c", "print(1)"]
    chosen = build_command("python", "print(1)", "/opt/py/bin/python3")
    assert chosen.argv[0] == "/opt/py/bin/python3"
    assert build_command("python", "#!/bin/bash\nprint(1)").script_file is None


def test_batch_runs_on_windows() -> None:
    command = build_command("batch", "echo hi", platform="win32")
    assert command == Command(["cmd.exe", "/d", "/c", "echo hi"])


def test_batch_elsewhere_says_what_to_do() -> None:
    with pytest.raises(ExecutorUnavailable, match=r"batch jobs need a Windows worker.*runs linux"):
        build_command("batch", "echo hi", platform="linux")


def test_unknown_executor_lists_the_known_ones() -> None:
    with pytest.raises(ExecutorUnavailable, match="shell, python, batch"):
        build_command("perl", "print 1")


# --- the default shell (HYDRA_SHELL) --------------------------------------------------------------


def test_the_default_shell_is_bin_sh_whatever_the_login_shell(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HYDRA_SHELL", raising=False)
    monkeypatch.setenv("SHELL", "/bin/bash")  # the operator's login shell is not the jobs' shell
    assert worker_config(Settings()).shell == "/bin/sh"
    assert resolve_shell(None, platform="linux") == "/bin/sh"
    assert resolve_shell("", platform="linux") == "/bin/sh"


def test_hydra_shell_is_looked_up_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    bash = shutil.which("bash")
    assert bash is not None
    monkeypatch.setenv("HYDRA_SHELL", "bash")
    assert worker_config(Settings()).shell == bash
    assert resolve_shell("bash", platform="linux") == bash
    assert resolve_shell("/bin/sh", platform="linux") == "/bin/sh"


def test_a_relative_hydra_shell_path_becomes_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shell = tmp_path / "myshell"
    shell.write_text('#!/bin/sh\nexec /bin/sh "$@"\n')
    shell.chmod(0o755)
    monkeypatch.chdir(tmp_path)
    assert resolve_shell("./myshell", platform="linux") == str(shell)


@pytest.mark.parametrize("kind", ["missing", "not executable", "directory"])
def test_an_unusable_hydra_shell_stops_the_worker_and_says_what_to_fix(
    kind: str, tmp_path: Path
) -> None:
    value = {
        "missing": "no-such-shell-anywhere",
        "not executable": str(tmp_path / "plain-file"),
        "directory": str(tmp_path),
    }[kind]
    (tmp_path / "plain-file").write_text("#!/bin/sh\n")
    with pytest.raises(ConfigError) as raised:
        worker_config(Settings(HYDRA_SHELL=value))
    message = raised.value.message
    assert f"HYDRA_SHELL={value!r}" in message
    assert "Set HYDRA_SHELL to an installed shell" in message and "or unset it" in message


def test_hydra_shell_is_refused_on_windows() -> None:
    assert resolve_shell(None, platform="win32") == "cmd.exe"
    with pytest.raises(ConfigError, match=r"HYDRA_SHELL='bash' is not supported on Windows"):
        resolve_shell("bash", platform="win32")


# --- the file a #! script runs from ---------------------------------------------------------------


def test_script_file_is_private_executable_and_removed_afterwards() -> None:
    with script_file("#!/bin/sh\necho hi\n", "0190abcd") as path:
        directory = os.path.dirname(path)
        assert os.path.dirname(directory) == tempfile.gettempdir()
        assert os.path.basename(directory).startswith("hydra-run-0190abcd-")
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
        with open(path, encoding="utf-8") as fh:
            assert fh.read() == "#!/bin/sh\necho hi\n"
    assert not os.path.exists(directory)


def test_script_file_is_removed_when_the_run_fails() -> None:
    with pytest.raises(RuntimeError), script_file("#!/bin/sh\n", "r1") as path:
        raise RuntimeError("boom")
    assert not os.path.exists(os.path.dirname(path))


def test_script_file_is_executable_whatever_the_umask() -> None:
    old = os.umask(0o777)
    try:
        with script_file("#!/bin/sh\n", "r2") as path:
            assert stat.S_IMODE(os.stat(path).st_mode) == 0o700
    finally:
        os.umask(old)


# --- spawn failures of #! scripts -----------------------------------------------------------------


def test_a_missing_interpreter_is_named() -> None:
    error = "spawn failed: [Errno 2] No such file or directory: '/tmp/x/script'"
    explained = explain_spawn_failure("#!/no/such/interpreter -x\necho", error)
    assert explained == f"{error}: #! interpreter '/no/such/interpreter' not found on this worker"
    crlf = explain_spawn_failure("#!/bin/sh\r\necho", error)
    assert "'/bin/sh\\r' not found" in crlf and "Windows line endings" in crlf


def test_other_spawn_failures_show_the_shebang_line() -> None:
    error = "spawn failed: [Errno 13] Permission denied: '/tmp/x/script'"
    assert explain_spawn_failure("#!/bin/sh -e\n", error) == f"{error} (#! line: '/bin/sh -e')"
    assert "names no interpreter" in explain_spawn_failure("#!\necho", error)


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
