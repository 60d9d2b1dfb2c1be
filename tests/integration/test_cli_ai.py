"""`hydra-jobs analyze` and `ai generate` against a real `up` (and an OpenAI stand-in)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.ai_standins import OpenAIStandIn, Reply
from tests.procs import UpProcess

DRAFT = {
    "name": "backup",
    "executor": {"type": "shell", "script": "echo backing up"},
    "schedule": {"cron": "0 7 * * 1-5", "timezone": "Europe/Berlin"},
}


@pytest.fixture
def standin() -> Iterator[OpenAIStandIn]:
    with OpenAIStandIn() as server:
        yield server


@pytest.fixture
def up(tmp_path: Path, standin: OpenAIStandIn) -> Iterator[UpProcess]:
    proc = UpProcess(
        tmp_path / "data", OPENAI_API_KEY="sk-cli-test-key", OPENAI_BASE_URL=standin.base_url
    ).start()
    yield proc
    proc.stop()


def test_analyze_a_failed_run_with_the_rules(up: UpProcess, tmp_path: Path) -> None:
    spec = tmp_path / "bad.json"
    script = "echo reading\ncat /nonexistent/input.csv"
    spec.write_text(json.dumps({"name": "bad", "executor": {"type": "shell", "script": script}}))
    assert up.cli("submit", str(spec)).returncode == 0
    ran = up.cli("run", "bad", "-f")
    run_id = re.search(r"run ([0-9a-f]{32})", ran.stdout)
    assert ran.returncode == 1 and run_id, ran.stdout

    done = up.cli("analyze", run_id.group(1), "--provider", "heuristic")
    assert done.returncode == 0, done.stderr
    assert "category: missing_file" in done.stdout and "by: heuristic" in done.stdout
    assert re.search(r"line\s+2: cat: /nonexistent/input.csv: No such file", done.stdout)
    again = up.cli("analyze", run_id.group(1), "--provider", "heuristic", "--json")
    assert json.loads(again.stdout)["cached"] is True

    refused = up.cli("analyze", run_id.group(1), "--provider", "gemini")
    assert refused.returncode == 1 and "GEMINI_API_KEY" in refused.stderr


def test_generate_shows_the_draft_and_saves_only_when_asked(
    up: UpProcess, standin: OpenAIStandIn
) -> None:
    standin.default = lambda _: Reply(text=json.dumps({"spec": DRAFT, "explanation": "Backs up."}))
    shown = up.cli("ai", "generate", "back up every weekday at 7 Berlin time")
    assert shown.returncode == 0, shown.stderr
    assert '"name": "backup"' in shown.stdout and "Backs up." in shown.stdout
    assert "valid" in shown.stdout and "next fires: " in shown.stdout
    assert "backup" not in up.cli("jobs").stdout  # shown, not saved

    declined = up.cli("ai", "generate", "back up", "--save", input_text="n\n")
    assert declined.returncode == 1 and "not saved" in declined.stderr
    assert "backup" not in up.cli("jobs").stdout
    saved = up.cli("ai", "generate", "back up", "--save", "--yes")
    assert saved.returncode == 0 and "saved job backup" in saved.stdout
    assert "backup" in up.cli("jobs").stdout

    standin.default = lambda _: Reply(text=json.dumps({"spec": {**DRAFT, "timeout": 5}}))
    invalid = up.cli("ai", "generate", "another", "--save", "--yes")
    assert invalid.returncode == 1 and "not valid" in invalid.stderr
    assert "timeout" in invalid.stdout and "timeout_seconds" in invalid.stdout
