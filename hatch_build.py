"""Hatch build hook: the wheel and the sdist carry the built web UI.

The scheduler serves the UI from `hydra_jobs/ui_dist` inside the installed package
(`scheduler.app.default_ui_dir`), so the wheel gets `ui/dist` at that place. The sdist carries
`ui/dist` itself (not the UI's sources and npm packages), so a wheel built from the sdist needs no
Node.js. `ui/dist` is used as it is, unless the UI's sources are newer and npm is there: then it is
built again first (`npm ci` when `ui/node_modules` is missing, then `npm run build`).

A build with no UI and no npm fails and says so; `HYDRA_BUILD_WITHOUT_UI=1` builds an API-only
package on purpose. Editable installs (`pip install -e .`) skip all of it: the scheduler finds
`ui/dist` in the checkout.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

UI_SOURCES = ("src", "public", "index.html", "package.json", "package-lock.json", "vite.config.ts")


class UiBuildHook(BuildHookInterface):  # type: ignore[type-arg]  # generic in hatchling>=1.22
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name == "wheel" and version == "editable":
            return
        ui = Path(self.root) / "ui"
        dist = ui / "dist"
        if _stale(ui, dist):
            _build(ui)
        if not (dist / "index.html").is_file():
            if os.environ.get("HYDRA_BUILD_WITHOUT_UI") == "1":
                self.app.display_warning("building without the web UI (HYDRA_BUILD_WITHOUT_UI=1)")
                return
            raise RuntimeError(
                "ui/dist is missing and cannot be built (npm not found): install Node.js 20 and"
                " run `cd ui && npm ci && npm run build`, or set HYDRA_BUILD_WITHOUT_UI=1 for a"
                " package without the web UI"
            )
        if self.target_name == "wheel":
            build_data["force_include"][str(dist)] = "hydra_jobs/ui_dist"
        else:  # sdist: ui/dist is git-ignored, so it goes in explicitly
            build_data["force_include"][str(dist)] = "ui/dist"
        self.app.display_info(f"web UI included from {dist}")


def _stale(ui: Path, dist: Path) -> bool:
    """True when the UI must be built: no build yet, or sources newer than it (checkout only)."""
    if not (ui / "package.json").is_file() or shutil.which("npm") is None:
        return False  # an sdist (no sources) or no Node.js: take ui/dist as it is
    index = dist / "index.html"
    if not index.is_file():
        return True
    built = index.stat().st_mtime
    for name in UI_SOURCES:
        path = ui / name
        files = path.rglob("*") if path.is_dir() else [path]
        if any(f.is_file() and f.stat().st_mtime > built for f in files):
            return True
    return False


def _build(ui: Path) -> None:
    npm = shutil.which("npm")
    assert npm is not None
    if not (ui / "node_modules").is_dir():
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=ui, check=True
        )
    subprocess.run([npm, "run", "build", "--silent"], cwd=ui, check=True)
