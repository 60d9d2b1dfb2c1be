"""Failure analysis through the API with the built-in rules: real jobs failing for real reasons.

Each job below fails the way operators' jobs do (a missing command, a refused connection, a full
disk, ...); the analysis must name the category and quote the decisive log line by its number.
"""

from __future__ import annotations

from typing import Any

import pytest

from hydra_jobs.client import ApiError, Client
from tests.conftest import Server, free_port

PY = "python"
CASES: dict[str, tuple[str, str, dict[str, Any], str, str]] = {
    # name: (executor, script, extra spec, category, text of the decisive line)
    "missing-command": (
        "shell",
        "echo starting\nhydra_no_such_command_xyz --all",
        {},
        "missing_command",
        "hydra_no_such_command_xyz: not found",
    ),
    "permission": (
        "shell",
        'd=$(mktemp -d)\nprintf "echo hi\\n" > "$d/run.sh"\necho built\n"$d/run.sh"\n'
        'code=$?; rm -r "$d"; exit $code',
        {},
        "permission",
        "/run.sh: Permission denied",
    ),
    "missing-file": (
        "shell",
        "echo reading\ncat /nonexistent/hydra/input.csv",
        {},
        "missing_file",
        "No such file or directory",
    ),
    "dependency": (
        PY,
        "print('loading')\nimport hydra_no_such_module_xyz",
        {},
        "dependency",
        "ModuleNotFoundError: No module named 'hydra_no_such_module_xyz'",
    ),
    "refused": (
        PY,
        "import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=5)",
        {},
        "network",
        "ConnectionRefusedError",
    ),
    "dns": (
        PY,
        "import socket\nsocket.getaddrinfo('no-such-host.invalid', 443)",
        {},
        "network",
        "socket.gaierror",
    ),
    "auth": (
        PY,
        "import os, urllib.request\n"
        "req = urllib.request.Request(os.environ['API'] + '/api/v1/jobs',"
        " headers={'Authorization': 'Bearer wrong-token-value'})\n"
        "urllib.request.urlopen(req)",
        {"env": {"API": "{url}"}},
        "auth",
        "HTTP Error 401: Unauthorized",
    ),
    "memory": (
        PY,
        "import resource\nresource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))\n"
        "data = bytearray(4 << 30)",
        {},
        "out_of_memory",
        "MemoryError",
    ),
    "sigkill": ("shell", "echo working\nkill -9 $$", {}, "out_of_memory", ""),
    "timeout": (
        "shell",
        "echo waiting for the lock\nsleep 30",
        {"timeout_seconds": 0.5},
        "timeout",
        "",
    ),
    "disk": (
        PY,
        "with open('/dev/full', 'w') as f:\n    f.write('x' * 10)",
        {},
        "disk",
        "No space left on device",
    ),
    "code": (
        PY,
        "rows = []\nprint('total', 10 / len(rows))",
        {},
        "code_error",
        "ZeroDivisionError",
    ),
    "unknown": ("shell", "echo done\nexit 3", {}, "unknown", ""),
}


def _line_of(logs: str, needle: str) -> int:
    return next(i for i, line in enumerate(logs.split("\n"), 1) if needle in line)


def test_each_rule_from_a_real_failing_process(server: Server) -> None:
    runs: dict[str, str] = {}
    for name, (executor, script, extra, _, _) in CASES.items():
        script = script.replace("{port}", str(free_port()))
        if "env" in extra:
            extra = {"env": {k: v.replace("{url}", server.url) for k, v in extra["env"].items()}}
        job = server.job(name, script, type=executor, **extra)
        runs[name] = server.client.trigger(job["id"])["id"]
    for name, (_, _, _, category, decisive) in CASES.items():
        done = server.wait_run(runs[name], timeout=30)
        assert done["status"] in {"failed", "timed_out"}, (name, done)
        answer = server.client.analyze(runs[name])
        assert answer["provider"] == "heuristic" and answer["model"] is None
        assert answer["category"] == category, (name, answer)
        assert answer["summary"] and answer["suggested_fix"] and 0 < answer["confidence"] <= 1
        assert answer["fingerprint"] and answer["cached"] is False
        logs = server.client.logs(runs[name])["data"]
        numbered = dict(enumerate(logs.split("\n"), 1))
        for evidence in answer["evidence"]:
            assert numbered[evidence["line"]] == evidence["text"], (name, evidence)
        if decisive:
            assert _line_of(logs, decisive) in [e["line"] for e in answer["evidence"]], (
                name,
                logs,
                answer["evidence"],
            )


def test_stored_answer_is_reused_and_force_asks_again(server: Server) -> None:
    job = server.job("fails", "echo one\ncat /nonexistent/file")
    run_id = server.client.trigger(job["id"])["id"]
    server.wait_run(run_id)
    assert server.client.analysis(run_id) is None

    first = server.client.analyze(run_id)
    again = server.client.analyze(run_id)
    assert again["cached"] is True and again["created_at"] == first["created_at"]
    assert {k: v for k, v in again.items() if k != "cached"} == {
        k: v for k, v in first.items() if k != "cached"
    }
    assert (server.client.analysis(run_id) or {})["category"] == "missing_file"
    forced = server.client.analyze(run_id, force=True)
    assert forced["cached"] is False and forced["created_at"] > first["created_at"]
    assert server.client.analyze(run_id, provider="heuristic")["cached"] is True


def test_only_failed_runs_and_only_configured_providers(server: Server) -> None:
    ok = server.job("ok", "echo fine")
    ok_run = server.client.trigger(ok["id"])["id"]
    server.wait_run(ok_run)
    with pytest.raises(ApiError) as refused:
        server.client.analyze(ok_run)
    assert refused.value.status_code == 409 and "succeeded" in str(refused.value.detail)

    bad = server.job("bad", "exit 1")
    bad_run = server.client.trigger(bad["id"])["id"]
    server.wait_run(bad_run)
    for provider, variable in (("gemini", "GEMINI_API_KEY"), ("openai", "OPENAI_API_KEY")):
        with pytest.raises(ApiError) as unconfigured:
            server.client.analyze(bad_run, provider=provider)
        assert unconfigured.value.status_code == 503 and variable in unconfigured.value.detail


def test_another_domains_run_is_not_found(server: Server) -> None:
    bad = server.job("bad", "exit 1")
    run_id = server.client.trigger(bad["id"])["id"]
    server.wait_run(run_id)
    server.client.create_domain("other")
    token = server.client.create_token("other", "t", "owner")["token"]
    with Client(server.url, token) as other:
        for call in (lambda: other.analyze(run_id), lambda: other.analysis(run_id)):
            with pytest.raises(ApiError) as hidden:
                call()
            assert hidden.value.status_code == 404
    assert server.client.analyze(run_id)["run_id"] == run_id  # its own domain's admin does


def test_recurring_failures_are_grouped_by_fingerprint(server: Server) -> None:
    script = (
        "import os, random\n"
        "n = random.randint(1, 10**6)\n"
        "if os.environ['HYDRA_PARAM_MODE'] == 'a':\n"
        "    raise ValueError(f'bad record {n} in /data/{n % 97}/in.csv at 12:{n % 60:02d}')\n"
        "raise KeyError(f'column{n}')\n"
    )
    job = server.job("flaky", script, type=PY, params={"mode": {"default": "a"}})
    ids = []
    for mode in ("a", "b", "a", "a"):
        run_id = server.client.trigger(job["id"], {"mode": mode})["id"]
        server.wait_run(run_id)
        ids.append(run_id)
    last = server.client.analyze(ids[3])
    assert last["category"] == "code_error"
    assert last["same_failures"] == 2
    assert [r["id"] for r in last["similar_runs"]] == [ids[2], ids[0]]
    first = server.client.get_run(ids[0])
    assert last["same_failures_since"] == first["created_at"]
    other = server.client.analyze(ids[1])
    assert other["fingerprint"] != last["fingerprint"] and other["same_failures"] == 0
    assert server.client.analyze(ids[0])["fingerprint"] == last["fingerprint"]

    groups = server.client._call("GET", f"/jobs/{job['id']}/failures")
    assert groups["examined"] == 4
    same, different = groups["items"]
    assert (same["fingerprint"], same["count"], same["latest_run_id"]) == (
        last["fingerprint"],
        3,
        ids[3],
    )
    assert same["since"] == first["created_at"] and same["category"] == "code_error"
    assert (different["fingerprint"], different["count"]) == (other["fingerprint"], 1)
    assert "ValueError" in same["summary"] and "KeyError" in different["summary"]


def test_difference_from_the_last_success_and_redaction(server: Server) -> None:
    secret = "hunter2-is-the-db-password"
    script = (
        'echo "connecting as app with $DB_PASSWORD"\n'
        '[ "$HYDRA_PARAM_FAIL" = yes ] && cat /nonexistent/hydra.conf\n'
        "true"
    )
    spec: dict[str, Any] = {
        "params": {"fail": {"default": "no"}, "api_token": {"default": "t0k3n-abc"}}
    }
    job = server.job("diff", script, env={"DB_PASSWORD": secret}, **spec)
    good = server.client.trigger(job["id"])["id"]
    assert server.wait_run(good)["status"] == "succeeded"
    body = {
        "name": "diff",
        "executor": {"type": "shell", "script": script + "\nexit 1"},
        "env": {"DB_PASSWORD": secret, "REGION": "eu-west-1"},
        **spec,
    }
    server.client.replace_job(job["id"], body)
    bad = server.client.trigger(job["id"], {"fail": "yes", "api_token": "n3w-s3cret-token"})["id"]
    assert server.wait_run(bad)["status"] == "failed"
    answer = server.client.analyze(bad)
    changes = answer["since_last_success"]
    assert changes["run_id"] == good
    assert changes["params_changed"] == {
        "api_token": {"then": "[REDACTED]", "now": "[REDACTED]"},
        "fail": {"then": "no", "now": "yes"},
    }
    assert changes["env_added"] == ["REGION"] and "env_removed" not in changes
    assert changes["spec_fields_changed"] == ["executor"]
    assert answer["category"] == "missing_file"
    text = str(answer)
    assert secret not in text and "n3w-s3cret-token" not in text
    logs = server.client.logs(bad)["data"]
    assert secret in logs  # the log itself is untouched; only what is analysed is masked
    assert answer["usual_duration_seconds"] is not None and answer["duration_seconds"] is not None
