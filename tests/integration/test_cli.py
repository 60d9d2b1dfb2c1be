"""The CLI against a running `hydra-jobs up` process: submit, run, runs, logs -f, cancel."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hydra_jobs import __version__
from tests.conftest import ADMIN, wait_for
from tests.procs import HYDRA, UpProcess, cli_env


@pytest.fixture
def up(tmp_path: Path) -> Iterator[UpProcess]:
    proc = UpProcess(tmp_path / "data").start()
    yield proc
    proc.stop()


def spec_file(tmp_path: Path, name: str, script: str, **more: Any) -> Path:
    """The spec of shell job `name` running `script` (and `more` fields), as `name`.json."""
    path = tmp_path / f"{name}.json"
    executor = {"type": "shell", "script": script}
    path.write_text(json.dumps({"name": name, "executor": executor, **more}))
    return path


def test_submit_run_runs_and_follow_logs(up: UpProcess, tmp_path: Path) -> None:
    spec = spec_file(tmp_path, "cli-job", "for i in 1 2 3; do echo tick-$i; sleep 0.2; done")
    submitted = up.cli("submit", str(spec))
    assert submitted.returncode == 0, submitted.stderr
    assert "created job cli-job" in submitted.stdout

    again = up.cli("submit", str(spec))  # same name and spec: neither duplicated nor a version
    assert "unchanged job cli-job" in again.stdout

    triggered = up.cli("run", "cli-job")
    assert triggered.returncode == 0, triggered.stderr
    run_id = re.search(r"run ([0-9a-f]{32})", triggered.stdout)
    assert run_id, triggered.stdout

    followed = up.cli("logs", run_id.group(1), "-f")
    assert followed.returncode == 0, followed.stderr
    assert followed.stdout == "tick-1\ntick-2\ntick-3\n"
    assert "succeeded" in followed.stderr

    listed = up.cli("runs", "--job", "cli-job")
    assert listed.returncode == 0 and run_id.group(1) in listed.stdout
    assert "succeeded" in listed.stdout
    jobs = up.cli("jobs")
    assert "cli-job" in jobs.stdout


def test_follow_exits_nonzero_for_a_failed_run(up: UpProcess, tmp_path: Path) -> None:
    spec = spec_file(tmp_path, "bad", "echo nope; exit 4")
    assert up.cli("submit", str(spec)).returncode == 0
    result = up.cli("run", "bad", "-f")
    assert result.returncode == 1
    assert "nope" in result.stdout and "exit 4" in result.stderr
    assert "exited with code 4" in result.stderr  # the run's error, not only its status


def test_cancel_from_the_cli(up: UpProcess, tmp_path: Path) -> None:
    spec = spec_file(tmp_path, "long", "sleep 300")
    up.cli("submit", str(spec))
    run_id = re.search(r"run ([0-9a-f]{32})", up.cli("run", "long").stdout)
    assert run_id
    rid = run_id.group(1)
    wait_for(lambda: "running" in up.cli("runs", "--job", "long").stdout, 10, message="running")
    cancelled = up.cli("cancel", rid)
    assert cancelled.returncode == 0 and "cancel requested" in cancelled.stdout
    wait_for(lambda: "cancelled" in up.cli("runs", "--job", "long").stdout, 10, message="cancelled")


def test_clear_errors(up: UpProcess, tmp_path: Path) -> None:
    bad = spec_file(tmp_path, "x", "true", schedule={"cron": "99 * * * *"})
    result = up.cli("submit", str(bad))
    assert result.returncode == 1 and "schedule" in result.stderr and "minute" in result.stderr
    assert "Value error" not in result.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    result = up.cli("submit", str(broken))
    assert result.returncode == 1 and "not valid JSON" in result.stderr
    result = up.cli("cancel", "nope")
    assert result.returncode == 1 and "not found" in result.stderr
    wrong = up.cli("jobs", "--token", "wrong")
    assert wrong.returncode == 1 and "invalid or revoked token" in wrong.stderr
    down = up.cli("jobs", "--url", "http://127.0.0.1:9")
    assert down.returncode == 1
    assert "cannot reach the scheduler at http://127.0.0.1:9" in down.stderr
    assert "HYDRA_URL" in down.stderr  # says how to point it elsewhere


def test_up_generates_and_stores_an_admin_token(tmp_path: Path) -> None:
    proc = UpProcess(tmp_path / "gen")
    proc.env.pop("ADMIN_TOKEN")
    proc.start()
    try:
        token_file = tmp_path / "gen" / "admin_token"
        token = token_file.read_text().strip()
        assert len(token) >= 32 and oct(token_file.stat().st_mode & 0o777) == "0o600"
        assert token in proc.log.read_text()  # printed once, at generation
        listed = proc.cli("jobs", "--data-dir", str(tmp_path / "gen"))
        assert listed.returncode == 0, listed.stderr
    finally:
        proc.stop()


def test_domains_and_tokens_commands(up: UpProcess, tmp_path: Path) -> None:
    created = up.cli("domains", "create", "ops", "--description", "operations")
    assert created.returncode == 0 and "created domain ops" in created.stdout, created.stderr
    listed = up.cli("domains", "list")
    assert re.search(r"ops\s+│?\s*0\s+│?\s*0", listed.stdout), listed.stdout
    minted = up.cli("tokens", "create", "--domain", "ops", "--role", "editor", "deployer")
    assert minted.returncode == 0, minted.stderr
    token = minted.stdout.strip()
    assert token.startswith("hjt_") and "shown only now" in minted.stderr
    assert "editor token deployer" in minted.stderr
    # Without --role: an operator (documented), which may run jobs but not change them.
    runner = up.cli("tokens", "create", "--domain", "ops", "runner")
    assert runner.returncode == 0 and "operator token runner" in runner.stderr, runner.stderr
    refused_edit = up.cli(
        "submit", str(spec_file(tmp_path, "x", "true")), "--token", runner.stdout.strip()
    )
    assert refused_edit.returncode == 1 and "needs the editor role" in refused_edit.stderr
    bad_role = up.cli("tokens", "create", "--domain", "ops", "--role", "root", "x")
    assert bad_role.returncode == 2 and "root" in bad_role.stderr
    # The token works, for its domain only.
    spec = spec_file(tmp_path, "ops-job", "true")
    assert up.cli("submit", str(spec), "--token", token).returncode == 0
    ops_jobs = up.cli("jobs", "--token", token)
    assert "ops-job" in ops_jobs.stdout
    assert "ops-job" not in up.cli("jobs").stdout  # the admin's default domain
    assert "ops-job" in up.cli("jobs", env={"HYDRA_DOMAIN": "ops"}).stdout  # the admin, in ops
    tokens = up.cli("tokens", "list", "--domain", "ops")
    token_id = token.split("_")[1]
    assert token_id in tokens.stdout and "deployer" in tokens.stdout and token not in tokens.stdout
    assert "editor" in tokens.stdout and "operator" in tokens.stdout
    runner_id = runner.stdout.strip().split("_")[1]
    demoted = up.cli("tokens", "role", "--domain", "ops", runner_id, "viewer")
    assert demoted.returncode == 0 and "runner is now viewer" in demoted.stdout, demoted.stderr
    not_admin = up.cli("domains", "list", "--token", token)
    assert not_admin.returncode == 1 and "admin token" in not_admin.stderr
    revoked = up.cli("tokens", "revoke", "--domain", "ops", token_id)
    assert revoked.returncode == 0 and "revoked token deployer" in revoked.stdout
    refused = up.cli("jobs", "--token", token)
    assert refused.returncode == 1 and "invalid or revoked token" in refused.stderr
    has_jobs = up.cli("domains", "delete", "ops")
    assert has_jobs.returncode == 1 and "rerun with --force" in has_jobs.stderr
    deleted = up.cli("domains", "delete", "ops", "--force")
    assert deleted.returncode == 0 and "deleted domain ops" in deleted.stdout
    assert "ops" not in up.cli("domains", "list").stdout
    bad = up.cli("domains", "create", "Not Valid")
    assert bad.returncode == 1 and "name" in bad.stderr


def test_up_keeps_what_start_up_built_out_of_garbage_collections(up: UpProcess) -> None:
    """Full collections walked the whole start-up heap: up to ~100 ms event-loop stalls."""
    metrics = httpx.get(up.url + "/metrics")
    assert metrics.status_code == 200
    frozen = re.search(r"^hydra_gc_frozen_objects (\S+)$", metrics.text, re.MULTILINE)
    assert frozen is not None, metrics.text
    assert float(frozen.group(1)) > 10_000  # modules, app, validators: ~140,000 objects


def test_show_pause_resume_retry_and_delete(up: UpProcess, tmp_path: Path) -> None:
    spec = spec_file(tmp_path, "minutely", "echo tick; exit 4", schedule={"cron": "* * * * *"})
    assert up.cli("submit", str(spec)).returncode == 0
    assert up.cli("pause", "minutely").stdout.strip() == "paused job minutely"
    assert re.search(r"minutely .*paused", up.cli("jobs").stdout)
    resumed = up.cli("resume", "minutely")
    assert resumed.returncode == 0 and resumed.stdout.strip() == "resumed job minutely"
    assert re.search(r"minutely .*active", up.cli("jobs").stdout)

    ran = up.cli("run", "minutely", "-f")
    assert ran.returncode == 1
    run_id = re.search(r"run ([0-9a-f]{32})", ran.stdout)
    assert run_id, ran.stdout
    shown = up.cli("show", run_id.group(1))
    assert shown.returncode == 0, shown.stderr
    assert re.search(r"status\s+failed", shown.stdout)
    assert re.search(r"error\s+exited with code 4", shown.stdout)
    assert re.search(r"usage\s+wall \d", shown.stdout)
    as_json = json.loads(up.cli("show", run_id.group(1), "--json").stdout)
    assert as_json["id"] == run_id.group(1) and as_json["exit_code"] == 4

    retried = up.cli("retry", run_id.group(1), "-f")
    assert retried.returncode == 1 and "(attempt 2)" in retried.stdout
    assert "tick" in retried.stdout and "exited with code 4" in retried.stderr

    kept = up.cli("delete", "minutely", input_text="n\n")
    assert kept.returncode == 1 and "minutely" in up.cli("jobs").stdout
    deleted = up.cli("delete", "minutely", "--yes")
    assert deleted.returncode == 0 and "minutely" not in up.cli("jobs").stdout
    assert run_id.group(1) in up.cli("runs").stdout  # its history stays
    missing = up.cli("pause", "minutely")
    assert missing.returncode == 1 and "no job named or with id 'minutely'" in missing.stderr


def test_show_says_how_many_processes_a_run_left_to_kill(up: UpProcess, tmp_path: Path) -> None:
    script = "setsid sleep 300 >/dev/null 2>&1 & sleep 0.3"  # a daemon outside its group
    assert up.cli("submit", str(spec_file(tmp_path, "leaver", script))).returncode == 0
    ran = up.cli("run", "leaver", "-f")
    run_id = re.search(r"run ([0-9a-f]{32})", ran.stdout)
    assert ran.returncode == 0 and run_id, ran.stdout

    shown = up.cli("show", run_id.group(1))

    assert re.search(r"killed at end\s+1 process\(es\)", shown.stdout), shown.stdout


def test_submit_saves_nothing_when_one_file_is_invalid(up: UpProcess, tmp_path: Path) -> None:
    good = spec_file(tmp_path, "good-one", ":")
    bad = spec_file(tmp_path, "bad-one", ":", timeout=5)
    result = up.cli("submit", str(good), str(bad))
    assert result.returncode == 1
    assert (
        f"{bad}: timeout: Extra inputs are not permitted; did you mean 'timeout_seconds'? "
        "(nothing was saved)"
    ) in result.stderr
    assert "good-one" not in up.cli("jobs").stdout


def test_an_unknown_job_name_is_one_clear_line(up: UpProcess) -> None:
    result = up.cli("run", "no-such-job")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "error: no job named or with id 'no-such-job' (hydra-jobs jobs lists them)"
    ]


# Every argument that names something, each given blank ("" or spaces): (argv, what it asks for).
BLANK_NAMES = [
    (["show", ""], "a run's id"),
    (["logs", " "], "a run's id"),
    (["cancel", ""], "a run's id"),
    (["retry", "\t"], "a run's id"),
    (["analyze", ""], "a run's id"),
    (["run", ""], "a job's name or id"),
    (["pause", " "], "a job's name or id"),
    (["resume", ""], "a job's name or id"),
    (["delete", "", "--yes"], "a job's name or id"),
    (["history", ""], "a job's name or id"),
    (["restore", " ", "2", "--yes"], "a job's name or id"),
    (["snooze", "", "--off"], "a job's name or id"),
    (["runs", "--job", ""], "a job's name or id"),
    (["drain", ""], "a worker's id"),
    (["tokens", "role", "", "viewer"], "a token's id"),
    (["tokens", "revoke", " "], "a token's id"),
    (["channels", "test", ""], "a channel's name"),
    (["channels", "deliveries", ""], "a channel's name"),
    (["channels", "delete", " "], "a channel's name"),
    (["domains", "delete", ""], "a domain's name"),
]


@pytest.mark.parametrize(
    ("argv", "what"),
    BLANK_NAMES,
    ids=[" ".join(arg if arg.strip() else repr(arg) for arg in argv) for argv, _ in BLANK_NAMES],
)
def test_a_blank_id_or_name_is_a_usage_error_before_any_call(argv: list[str], what: str) -> None:
    """`hydra-jobs show ""` called GET /api/v1/runs/: "error: HTTP 404: no such API route";
    `cancel ""` said "HTTP 405: Method Not Allowed". The URL here answers nothing: a command
    that called it would say "cannot reach the scheduler" and exit 1."""
    done = subprocess.run(
        [HYDRA, *argv],
        env=cli_env(HYDRA_URL="http://127.0.0.1:9", HYDRA_TOKEN="t" * 43),
        capture_output=True,
        text=True,
        timeout=30,
    )
    said = re.sub(r"[│\s]+", " ", done.stderr)  # the usage error's box, as one line
    assert done.returncode == 2, done.stderr
    assert f"it is empty: give {what} (hydra-jobs " in said, done.stderr
    assert "cannot reach" not in said


def test_the_token_of_dev_up_is_found_from_below_the_repository_root(
    up: UpProcess, tmp_path: Path
) -> None:
    """`cd ui && hydra-jobs jobs` said "no API token": only ./.hydra/data was looked in. The
    nearest .hydra/data above counts, as git finds .git, up to a repository's root or home."""
    home, above = tmp_path / "home", tmp_path / "above"
    repo = above / "repo"
    for where, token in ((repo, ADMIN), (above, "w" * 43)):  # above the repository: not its
        (where / ".hydra" / "data").mkdir(parents=True)
        (where / ".hydra" / "data" / "admin_token").write_text(token + "\n")
    (repo / ".git").mkdir()
    for directory in (repo / "ui" / "src", repo / "vendor" / "lib" / ".git", above / "home"):
        directory.mkdir(parents=True)

    def jobs(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
        # No token variable; HOME and XDG_DATA_HOME: no per-user data dir with a token.
        plain = cli_env(HYDRA_URL=up.url, HOME=str(home), XDG_DATA_HOME=str(home / "data"))
        for name in ("HYDRA_TOKEN", "HYDRA_DATA_DIR"):
            plain.pop(name, None)
        return subprocess.run(
            [HYDRA, "jobs", *args],
            cwd=cwd,
            env={**plain, **env},
            capture_output=True,
            text=True,
            timeout=30,
        )

    found = jobs(repo / "ui" / "src")
    assert found.returncode == 0, found.stderr
    # Outside any repository the walk goes on: `above`'s token (not this server's) is used.
    outside = jobs(above / "home")
    assert outside.returncode == 1, outside.stdout
    where = f"the token came from the admin token `up` stored in {above / '.hydra'}"
    assert where in outside.stderr.replace("\n", ""), outside.stderr
    # It stops at a repository's root (vendor/lib has its .git) and at the home directory.
    for stopped, home_dir in ((repo / "vendor" / "lib", home), (above / "home", above / "home")):
        none = jobs(stopped, HOME=str(home_dir))
        assert none.returncode == 1 and "no API token" in none.stderr, none.stderr
    # --data-dir still comes first.
    given = jobs(repo / "ui" / "src", "--data-dir", str(above / ".hydra" / "data"))
    assert given.returncode == 1 and "invalid or revoked token" in given.stderr, given.stderr


def test_version() -> None:
    done = subprocess.run([HYDRA, "--version"], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.strip() == f"hydra-jobs {__version__}"


def test_workers_drain_and_audit(up: UpProcess, tmp_path: Path) -> None:
    listed = up.cli("workers", "--json")
    assert listed.returncode == 0, listed.stderr
    (worker,) = json.loads(listed.stdout)
    assert worker["status"] == "online"
    table = up.cli("workers")
    slots = f"0/{worker['concurrency']}"
    assert worker["id"] in table.stdout and "online" in table.stdout and slots in table.stdout

    assert up.cli("submit", str(spec_file(tmp_path, "audited", "true"))).returncode == 0
    drained = up.cli("drain", worker["id"])
    assert drained.returncode == 0 and "is draining" in drained.stdout, drained.stderr
    wait_for(
        lambda: json.loads(up.cli("workers", "--json").stdout)[0]["status"] == "draining",
        10,
        message="the worker draining",
    )
    unknown = up.cli("drain", "no-such-worker")
    assert unknown.returncode == 1 and "not found" in unknown.stderr

    log = json.loads(up.cli("audit", "--json").stdout)
    actions = [e["action"] for e in log]
    assert any("drain" in a for a in actions) and any("job" in a for a in actions), actions
    # Filters are the server's, each exact.
    only = json.loads(up.cli("audit", "--json", "--action", "workers.drain").stdout)
    assert [e["object_id"] for e in only] == [worker["id"]]
    assert json.loads(up.cli("audit", "--json", "--action", "drain").stdout) == []
    by_type = json.loads(
        up.cli("audit", "--json", "--object-type", "worker", "--since", "1h").stdout
    )
    assert [e["action"] for e in by_type] == ["workers.drain"]
    by_id = up.cli("audit", "--json", "--object-id", worker["id"], "--actor", "admin")
    assert [e["action"] for e in json.loads(by_id.stdout)] == ["workers.drain"]
    assert json.loads(up.cli("audit", "--json", "--until", "2000-01-01").stdout) == []
    bad = up.cli("audit", "--since", "yesterday")
    assert bad.returncode == 2 and "neither a time" in bad.stderr
    assert "drain" in up.cli("audit", "--limit", "5").stdout


def test_a_refused_token_says_where_it_came_from(up: UpProcess, tmp_path: Path) -> None:
    """A distributed shell without HYDRA_TOKEN quietly used a local `up`'s stored token, and
    the 401 did not say so."""
    data = tmp_path / "other-up"
    data.mkdir()
    (data / "admin_token").write_text("x" * 43)  # another instance's token: not this one's

    def jobs(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [HYDRA, "jobs", *args],
            env=cli_env(HYDRA_URL=up.url, **env),  # no token variable unless given here
            capture_output=True,
            text=True,
            timeout=30,
        )

    stored = jobs("--data-dir", str(data))
    assert stored.returncode == 1, stored.stdout
    where = f"the token came from the admin token `up` stored in {data / 'admin_token'}"
    assert where in stored.stderr.replace("\n", ""), stored.stderr
    from_env = jobs(HYDRA_TOKEN="y" * 43)
    assert from_env.returncode == 1 and "the token came from HYDRA_TOKEN" in from_env.stderr
    from_flag = jobs("--token", "z" * 43)
    assert from_flag.returncode == 1 and "the token came from --token" in from_flag.stderr


def test_validate_shows_next_fires_in_the_jobs_zone_and_here(up: UpProcess, tmp_path: Path) -> None:
    """Next fires of a Europe/Berlin job were shown in UTC only."""
    spec = spec_file(
        tmp_path, "berlin", "true", schedule={"cron": "30 4 * * *", "timezone": "Europe/Berlin"}
    )
    done = up.cli("validate", str(spec), env={"TZ": "America/New_York"})
    assert done.returncode == 0, done.stderr
    fires = [line for line in done.stdout.splitlines() if "next:" in line]
    assert len(fires) == 5
    for line in fires:  # 04:30 in Berlin is 22:30 or 23:30 the day before in New York
        assert re.search(r"04:30:00 CES?T \(Europe/Berlin, the job's\)", line), line
        assert re.search(r"2[23]:30:00 E[DS]T \(here\)", line), line
