"""Which `.hydra/data` the CLI takes its token from when none is given: the nearest one above,
and only one that is the caller's own and closed to others."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from hydra_jobs.cli.common import dev_data_dir

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX owners and modes")


def state(top: Path) -> Path:
    data = top / ".hydra" / "data"
    data.mkdir(parents=True)
    (top / ".hydra").chmod(0o700)
    data.chmod(0o700)
    return data


def test_the_nearest_own_data_dir_above_is_found(tmp_path: Path) -> None:
    data = state(tmp_path)
    deep = tmp_path / "ui" / "src"
    deep.mkdir(parents=True)
    assert dev_data_dir(deep) == data


@pytest.mark.parametrize("loose", [".hydra", ".hydra/data"])
def test_a_data_dir_others_may_write_is_not_taken(tmp_path: Path, loose: str) -> None:
    """Another user could have planted it (or its token) in a shared directory above."""
    state(tmp_path)
    (tmp_path / loose).chmod(0o777)
    assert dev_data_dir(tmp_path / ".") is None


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to chown")
def test_a_data_dir_of_another_user_is_not_taken(tmp_path: Path) -> None:
    data = state(tmp_path)
    os.chown(data, 65534, 65534)
    assert dev_data_dir(tmp_path) is None
