"""How many connections the server takes, given its descriptor limit."""

from __future__ import annotations

from hydra_jobs.scheduler.api.serving import FD_RESERVE_MIN, connection_cap


def test_the_cap_leaves_descriptors_to_the_rest_of_the_process() -> None:
    assert connection_cap(1000, 65536) == 1000
    assert connection_cap(1000, 1024) == 1024 - 256
    assert connection_cap(1000, 256) == 256 - FD_RESERVE_MIN
    assert connection_cap(1000, 50) == 1  # never zero: a refusing server answers no one
