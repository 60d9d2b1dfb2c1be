"""The package as users get it: an sdist and a wheel built from it (as `python -m build` does), the
web UI inside both, and `pip install hydra-jobs` (no extras) giving a working `hydra-jobs up`.

The fresh virtual environment installs the wheel's dependencies from the package index, exactly as
a user's `pip install` resolves them (not from the lock), so it needs the index; the web UI is
built once (`npm ci && npm run build`) when `ui/dist` is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hydra_jobs.client import Client
from tests.conftest import free_port, wait_for
from tests.procs import cli_env

pytestmark = [pytest.mark.packaging, pytest.mark.timeout(600)]

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# What each extra may add, and nothing more (the names as the wheel's metadata spells them).
EXTRAS = {
    "postgres": {"asyncpg"},
    "redis": {"redis", "cryptography"},
    "mongo": {"pymongo"},
    "ai": {"openai", "google-genai"},
}
EXTRAS["all"] = set().union(*EXTRAS.values())
OPTIONAL = EXTRAS["all"]


def _run(
    argv: list[str], cwd: Path | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def ui_dist() -> Path:
    dist = ROOT / "ui" / "dist"
    if not (dist / "index.html").is_file():
        npm = shutil.which("npm")
        if npm is None:
            if IN_CI:
                pytest.fail("npm is needed to build the web UI into the wheel")
            pytest.skip("SKIPPED LOUDLY: npm is not installed; the wheel needs the built web UI")
        if not (ROOT / "ui" / "node_modules").is_dir():
            _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ROOT / "ui")
        _run([npm, "run", "build", "--silent"], cwd=ROOT / "ui")
    return dist


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, ui_dist: Path) -> tuple[Path, Path]:
    """The sdist, and the wheel built from it (so the sdist must carry all the wheel needs)."""
    out = tmp_path_factory.mktemp("dist")
    bin_dir = Path(sys.executable).parent
    _run([str(bin_dir / "hatchling"), "build", "-t", "sdist", "-d", str(out)], cwd=ROOT)
    (sdist,) = out.glob("hydra_jobs-*.tar.gz")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    _run([*pip_wheel, "-w", str(out), str(sdist)])
    (wheel,) = out.glob("hydra_jobs-*.whl")
    return sdist, wheel


def test_sdist_and_wheel_carry_the_built_ui(built: tuple[Path, Path], ui_dist: Path) -> None:
    sdist, wheel = built
    ui_files = {p.relative_to(ui_dist).as_posix() for p in ui_dist.rglob("*") if p.is_file()}
    assert "index.html" in ui_files and any(f.startswith("assets/") for f in ui_files)
    with tarfile.open(sdist) as tar:
        top = tar.getnames()[0].split("/")[0]
        in_sdist = {n.removeprefix(f"{top}/") for n in tar.getnames()}
    assert {f"ui/dist/{f}" for f in ui_files} <= in_sdist
    assert not any(n.startswith(("ui/src/", "ui/node_modules/", "tests/")) for n in in_sdist)
    with zipfile.ZipFile(wheel) as whl:
        in_wheel = set(whl.namelist())
        index = whl.read("hydra_jobs/ui_dist/index.html").decode()
    assert {f"hydra_jobs/ui_dist/{f}" for f in ui_files} <= in_wheel
    assert index == (ui_dist / "index.html").read_text()


def test_extras_add_only_what_they_name(built: tuple[Path, Path]) -> None:
    _, wheel = built
    with zipfile.ZipFile(wheel) as whl:
        (meta,) = [n for n in whl.namelist() if n.endswith(".dist-info/METADATA")]
        text = whl.read(meta).decode()
    needs: dict[str, set[str]] = {}
    for line in re.findall(r"^Requires-Dist: (.+)$", text, re.M):
        name = re.split(r"[\s\[<>=!~;]", line, maxsplit=1)[0].lower()
        extra = re.search(r"extra == '([^']+)'", line)
        needs.setdefault(extra.group(1) if extra else "", set()).add(name)
    assert not needs[""] & OPTIONAL, "a backend's driver is a plain dependency"
    for extra, names in EXTRAS.items():
        assert needs[extra] == names, extra


@pytest.fixture(scope="module")
def fresh_venv(tmp_path_factory: pytest.TempPathFactory, built: tuple[Path, Path]) -> Path:
    """A new virtual environment with `pip install <the wheel>`, no extras."""
    venv = tmp_path_factory.mktemp("venv")
    _run([sys.executable, "-m", "venv", str(venv)])
    _, wheel = built
    pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "install", "--quiet", str(wheel)], timeout=480)
    return venv


@pytest.fixture
def installed_up(fresh_venv: Path, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`hydra-jobs up` of the fresh environment, started from a directory outside the checkout."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    data = tmp_path / "data"
    port = free_port()
    env = cli_env(HYDRA_KILL_GRACE_SECONDS="1", HYDRA_DRAIN_GRACE_SECONDS="1")
    for name in ("PYTHONPATH", "VIRTUAL_ENV", "HYDRA_UI_DIR", "HYDRA_DATA_DIR"):
        env.pop(name, None)
    env["PATH"] = f"{fresh_venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    log = tmp_path / "up.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            ["hydra-jobs", "up", "--port", str(port), "--data-dir", str(data)],
            cwd=elsewhere,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"hydra-jobs up exited {proc.returncode}:\n{log.read_text()}")
        try:
            return httpx.get(url + "/readyz", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_for(ready, 60, 0.1, message=f"the installed hydra-jobs up on {port}")
        token = (data / "admin_token").read_text().strip()
        assert token in log.read_text()  # generated and shown once, as a first start does
        yield url, token
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
    # uvicorn re-raises the SIGTERM it handled once it has shut down cleanly: -15, not a kill.
    assert proc.returncode == -signal.SIGTERM, log.read_text()
    assert "Traceback" not in log.read_text(), log.read_text()


def test_pip_install_without_extras_gives_a_working_up(
    fresh_venv: Path, installed_up: tuple[str, str]
) -> None:
    python = str(fresh_venv / "bin" / "python")
    listed = _run([python, "-m", "pip", "list", "--format=json"]).stdout
    names = {p["name"].lower() for p in json.loads(listed)}
    assert "hydra-jobs" in names
    assert not names & OPTIONAL, f"installed without extras: {sorted(names & OPTIONAL)}"
    where = _run([python, "-c", "import hydra_jobs; print(hydra_jobs.__file__)"]).stdout
    assert where.startswith(str(fresh_venv)), where  # the installed copy, not the checkout

    url, token = installed_up
    with Client(url, token) as client:
        job = client.create_job(
            {"name": "packaged", "executor": {"type": "shell", "script": "echo from-the-wheel"}}
        )
        run = client.trigger(job["id"])
        done = wait_for(
            lambda: (r := client.get_run(run["id"]))["status"] in {"succeeded", "failed"} and r,
            30,
            0.05,
            message="the run to end",
        )
        assert done["status"] == "succeeded", done
        assert "from-the-wheel" in client.full_log(run["id"])

    page = httpx.get(url + "/", timeout=5)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    asset = re.search(r'src="(/assets/[^"]+\.js)"', page.text)
    assert asset is not None, page.text
    script = httpx.get(url + asset.group(1), timeout=5)
    assert script.status_code == 200 and len(script.content) > 1000
    deep = httpx.get(url + "/runs/some-run", timeout=5)  # a client-side route: the same page
    assert deep.status_code == 200 and deep.text == page.text
