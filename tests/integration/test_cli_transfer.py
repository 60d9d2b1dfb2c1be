"""`hydra-jobs export` and `import` against a real scheduler: the plan first, then a question."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import ADMIN, Server
from tests.integration.test_jobs_transfer import ADHOC, CLEANUP, REPORT, names
from tests.procs import HYDRA, cli_env


def hydra(
    server: Server, *args: str, input_text: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [HYDRA, *args],
        env=cli_env(HYDRA_URL=server.url, HYDRA_TOKEN=ADMIN),
        input=input_text,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_cli_export_and_import_show_the_plan_and_ask_first(server: Server, tmp_path: Path) -> None:
    server.client.create_job(REPORT)
    server.client.create_job(ADHOC)
    exported = hydra(server, "export")
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout) == server.client.export_jobs()
    path = tmp_path / "jobs.json"
    assert hydra(server, "export", "--out", str(path)).returncode == 0
    assert path.read_text() == exported.stdout

    doc = json.loads(path.read_text())
    doc["jobs"] = [{**REPORT, "timeout_seconds": 60}, CLEANUP]
    path.write_text(json.dumps(doc))

    declined = hydra(server, "import", str(path), "--prune", input_text="n\n")
    assert declined.returncode == 1
    assert "+ cleanup" in declined.stdout
    assert "~ nightly-report (timeout_seconds)" in declined.stdout
    assert "- adhoc" in declined.stdout
    assert "domain default: 1 to create, 1 to update, 1 to delete, 0 unchanged" in declined.stdout
    assert "nothing was applied" in declined.stderr
    assert names(server.client) == ["adhoc", "nightly-report"]

    dry = hydra(server, "import", str(path), "--prune", "--dry-run")
    assert dry.returncode == 0 and "+ cleanup" in dry.stdout
    assert names(server.client) == ["adhoc", "nightly-report"]

    applied = hydra(server, "import", str(path), "--prune", "--yes")
    assert applied.returncode == 0, applied.stderr
    assert "1 created, 1 updated, 1 deleted" in applied.stdout
    assert names(server.client) == ["cleanup", "nightly-report"]
    again = hydra(server, "import", str(path), "--prune")  # nothing to ask
    assert again.returncode == 0 and "nothing to change" in again.stdout


def test_cli_import_of_an_invalid_file_is_one_line_naming_file_job_and_field(
    server: Server, tmp_path: Path
) -> None:
    path = tmp_path / "jobs.json"
    path.write_text(json.dumps({"jobs": [ADHOC, {**CLEANUP, "timeout": 5}]}))
    result = hydra(server, "import", str(path), "--yes")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"error: {path}: job 'cleanup' (jobs.1), timeout: Extra inputs are not permitted; "
        "did you mean 'timeout_seconds'? (nothing was applied)"
    ]
    assert names(server.client) == []
    path.write_text(json.dumps({"version": 2, "jobs": [ADHOC]}))
    newer = hydra(server, "import", str(path), "--yes")
    assert newer.returncode == 1
    assert newer.stderr.strip().splitlines() == [
        f"error: {path}: export version 2; this hydra-jobs reads version 1 (upgrade it)"
    ]
