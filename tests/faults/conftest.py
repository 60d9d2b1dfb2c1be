"""Fixtures for the distributed-mode fault tests: a cluster of real processes on a real Redis."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster import Cluster


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path)
    yield c
    c.close()
    # Shown by pytest only when the test failed: what every process logged, last lines first.
    for proc in [*c.schedulers, *c.workers]:
        tail = proc.output().splitlines()[-25:]
        print(f"----- {proc.log.name} -----", *tail, sep="\n")
