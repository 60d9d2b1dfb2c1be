"""Tests of the per-run cgroup need a writable cgroup v2 hierarchy (root, or a delegated tree)."""

from __future__ import annotations

import os

import pytest

from hydra_jobs.worker import cgroups


def require_cgroups() -> None:
    """Skip loudly where runs cannot get a cgroup; fail under CI, which must prove that path."""
    if cgroups.cgroups_available():
        return
    reason = (
        "no writable cgroup v2 hierarchy: run as root, or in a delegated cgroup v2 subtree, "
        "for the per-run cgroup tests (the subreaper tests run anyway)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)
