"""The RQ peer's task: spawn /bin/true, like a Hydra shell job running `true`."""

from __future__ import annotations

import subprocess


def run_true() -> None:
    subprocess.run(["true"], check=True)
