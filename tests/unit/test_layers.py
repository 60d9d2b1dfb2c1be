"""The layering of the package, as `lint-imports` checks it with the contracts in pyproject.toml.

Run in the unit suite, so an import against the layers fails like any other broken rule: the CLI
on top, then the scheduler's web layer, its loops and AI, its use cases, its shared context, the
stores and the broker; the worker apart from the scheduler and the stores; the core (models,
rules, utilities) below everything; no import cycle between the modules of any package.
"""

from __future__ import annotations

import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import hydra_jobs

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(hydra_jobs.__file__).parent


def _lint_imports(*args: str, cwd: Path = ROOT, pythonpath: Path | None = None) -> str:
    program = Path(sys.executable).with_name("lint-imports")
    env = {"PATH": str(program.parent), "PYTHONDONTWRITEBYTECODE": "1"}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    done = subprocess.run(
        [str(program), "--no-cache", "--no-logo", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return f"exit {done.returncode}\n{done.stdout}{done.stderr}"


def _contracts() -> list[dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_the_imports_keep_every_layer_contract() -> None:
    report = _lint_imports(str(ROOT / "pyproject.toml"))
    assert report.startswith("exit 0\n"), report
    assert "0 broken" in report, report


def test_every_top_level_module_has_a_place_in_the_layers() -> None:
    """A new module or package at the top of `hydra_jobs` must be named in a contract (as core,
    or as a layer), or nothing would check what it imports."""
    named: set[str] = set()
    for contract in _contracts():
        for key in ("layers", "source_modules", "forbidden_modules"):
            for entry in contract.get(key, []):  # type: ignore[attr-defined]
                for part in str(entry).replace(":", "|").split("|"):
                    named.add(part.strip().split(".")[1])
    top = {m.name for m in pkgutil.iter_modules([str(PACKAGE)])}
    assert top - named == set(), f"not placed in any layer contract: {sorted(top - named)}"


def test_a_forbidden_import_breaks_the_contracts(tmp_path: Path) -> None:
    """The check can fail: the domain model importing the worker (as it once did) is refused."""
    copy = tmp_path / "src" / "hydra_jobs"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "ui_dist"))
    models = copy / "models.py"
    models.write_text(models.read_text() + "\nfrom hydra_jobs.worker import executors  # noqa\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")

    report = _lint_imports("pyproject.toml", cwd=tmp_path, pythonpath=tmp_path / "src")

    assert report.startswith("exit 1\n"), report
    assert "The core (domain model, rules, utilities) imports nothing above it BROKEN" in report
    assert "hydra_jobs.models -> hydra_jobs.worker.executors" in report, report
