"""Which run an adopted orphan belongs to, without a cgroup (containment._belongs).

The orphans here do not exist, so their environment cannot be read: only their group, session
and creation time (clock ticks) speak, as for a daemon that cleared its environment.
"""

from __future__ import annotations

import pytest

from hydra_jobs.worker import containment
from hydra_jobs.worker.containment import ProcStat, RunRecord

NO_SUCH_PID = 4_000_000  # above any pid_max: no /proc entry, so no marker to read
HOST = ProcStat(pid=100, state="S", pgid=100, sid=100, start=10)


def orphan(start: int, pgid: int = 900, sid: int = 900) -> ProcStat:
    return ProcStat(pid=NO_SUCH_PID, state="S", pgid=pgid, sid=sid, start=start)


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> dict[int, RunRecord]:
    live: dict[int, RunRecord] = {}
    monkeypatch.setattr(containment, "_live", live)
    monkeypatch.setattr(containment, "_kept", [])
    return live


def run(live: dict[int, RunRecord], pid: int, start: int) -> RunRecord:
    live[pid] = RunRecord(pid=pid, start=start, marker=None)
    return live[pid]


def belongs(stat: ProcStat, record: RunRecord) -> bool:
    return containment._belongs(stat, record, HOST, adopted=True)


def test_an_orphan_created_during_the_only_run_is_its(runs: dict[int, RunRecord]) -> None:
    mine = run(runs, 200, start=1000)
    assert belongs(orphan(start=1500), mine)
    assert not belongs(orphan(start=900), mine)  # created before the run began


def test_its_group_or_session_says_whose_it_is(runs: dict[int, RunRecord]) -> None:
    first, second = run(runs, 200, start=1000), run(runs, 300, start=1100)
    assert belongs(orphan(start=1500, pgid=300), second)
    assert belongs(orphan(start=1500, sid=200), first)


def test_an_orphan_another_earlier_run_may_own_is_left_to_the_last(
    runs: dict[int, RunRecord],
) -> None:
    earlier, later = run(runs, 200, start=1000), run(runs, 300, start=1100)
    stray = orphan(start=1500)
    assert not belongs(stray, later)  # `earlier` was going when it was created
    assert not belongs(stray, earlier)  # and so was `later`
    containment.forget(later)
    assert belongs(stray, earlier)  # the last run that may own it ends it


def test_the_hosts_own_children_and_kept_daemons_are_nobodys(
    runs: dict[int, RunRecord],
) -> None:
    mine = run(runs, 200, start=1000)
    assert not belongs(orphan(start=1500, pgid=HOST.pgid), mine)
    kept = RunRecord(pid=300, start=1400, marker=None, keep_daemons=True, end=1600)
    containment._kept.append(kept)
    assert not belongs(orphan(start=1500), mine)  # may be the kept run's daemon
    assert belongs(orphan(start=1700), mine)  # created after that run ended
