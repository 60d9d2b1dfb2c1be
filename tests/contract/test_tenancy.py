"""Domains, their tokens and batched audit records: the same behaviour on every store."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from hydra_jobs import tokens
from hydra_jobs.errors import Conflict, NotFound
from hydra_jobs.ids import new_id
from hydra_jobs.models import Job, Run
from hydra_jobs.status import RunStatus
from hydra_jobs.store.base import (
    AppendLog,
    AuditRecord,
    RunFilter,
    Store,
    TokenRecord,
    UpsertWorker,
)
from tests.contract.factories import T0, at, make_job, make_run, make_worker

S = RunStatus


def make_token(domain: str, name: str = "ci", created_at: float = 0) -> TokenRecord:
    minted = tokens.mint()
    return TokenRecord(
        id=minted.token_id,
        domain=domain,
        name=name,
        secret_hash=minted.secret_hash,
        worker_key=minted.worker_key.hex(),
        created_at=at(created_at),
        created_by="admin",
    )


def make_audit(domain: str, i: int, action: str = "job.create") -> AuditRecord:
    return AuditRecord(
        id=new_id(),
        domain=domain,
        actor="admin",
        action=action,
        object_type="job",
        object_id=f"job-{i}",
        at=at(i),
        details={"i": i, "nested": {"k": [1, 2]}},
    )


async def _token(store: Store, domain: str, name: str = "ci") -> TokenRecord:
    token = make_token(domain, name)
    await store.create_token(token)
    return token


async def _job(store: Store, domain: str, name: str | None = None) -> Job:
    job = make_job(domain, name)
    await store.create_job(job)
    return job


# domains ---------------------------------------------------------------------------------------


async def test_a_domain_reads_back_and_creating_it_twice_conflicts(store: Store) -> None:
    await store.create_domain("ops", "the ops team", T0)
    with pytest.raises(Conflict):
        await store.create_domain("ops", "again", at(5))

    got = await store.get_domain("ops")
    assert (got.name, got.description, got.created_at) == ("ops", "the ops team", T0)
    assert (got.jobs, got.tokens) == (0, 0)
    assert await store.has_domain("ops")
    assert not await store.has_domain("nope")
    with pytest.raises(NotFound):
        await store.get_domain("nope")

    await store.ensure_domain("ops")  # an existing domain is left as it is
    assert (await store.get_domain("ops")).description == "the ops team"
    await store.ensure_domain("made")
    assert await store.has_domain("made")
    assert (await store.get_domain("made")).description is None


async def test_counts_are_jobs_and_unrevoked_tokens(store: Store) -> None:
    for name in ("b", "a", "empty"):
        await store.create_domain(name, None, T0)
    for _ in range(3):
        await _job(store, "a")
    await _job(store, "b")
    a_tokens = [await _token(store, "a", f"t{i}") for i in range(3)]
    await _token(store, "b")
    await store.revoke_token("a", a_tokens[1].id, at(1))
    await store.insert_runs([make_run(await _job(store, "b"))])  # runs are not jobs

    a = await store.get_domain("a")
    assert (a.jobs, a.tokens) == (3, 2)
    listed = await store.list_domains()
    assert [(d.name, d.jobs, d.tokens) for d in listed] == [
        ("a", 3, 2),
        ("b", 2, 1),
        ("empty", 0, 0),
    ]
    assert listed[0] == a


async def test_update_domain(store: Store) -> None:
    await store.create_domain("ops", "before", T0)
    await _job(store, "ops")
    updated = await store.update_domain("ops", "after")
    assert (updated.description, updated.created_at, updated.jobs) == ("after", T0, 1)
    assert (await store.get_domain("ops")).description == "after"
    cleared = await store.update_domain("ops", None)
    assert cleared.description is None and (await store.get_domain("ops")).description is None
    with pytest.raises(NotFound):
        await store.update_domain("nope", "x")
    assert not await store.has_domain("nope")


async def _populate(store: Store, domain: str, n_runs: int) -> tuple[list[Job], list[Run]]:
    """A domain with jobs, runs with log chunks, a worker, tokens and audit records."""
    await store.create_domain(domain, f"the {domain} team", T0)
    jobs = [await _job(store, domain, "shared-name"), await _job(store, domain)]
    runs = [
        make_run(jobs[i % 2], S.SUCCEEDED, created_at=at(i), worker_id=f"{domain}-w")
        for i in range(n_runs)
    ]
    await store.insert_runs(runs)
    chunks = [AppendLog(r.id, offset, "out\n") for r in runs for offset in (0, 4)]
    assert await store.apply(chunks) == [True] * len(chunks)
    await store.apply([UpsertWorker(make_worker(f"{domain}-w", domain))])
    await _token(store, domain)
    await _token(store, domain, "revoked")
    await store.add_audits([make_audit(domain, i) for i in range(3)])
    return jobs, runs


@pytest.mark.parametrize("batch", [1, 3, 4, 1000])
async def test_delete_domain_takes_everything_of_that_domain_and_nothing_else(
    store: Store, batch: int
) -> None:
    """6 runs: one per batch, an exact multiple, a remainder, and all in one batch."""
    gone_jobs, gone_runs = await _populate(store, "gone", 6)
    kept_jobs, kept_runs = await _populate(store, "kept", 3)
    gone_tokens = await store.list_tokens("gone")
    kept_tokens = await store.list_tokens("kept")
    assert len((await store.list_audit("gone", limit=10, cursor=None)).items) == 3

    await store.delete_domain("gone", batch=batch)

    assert not await store.has_domain("gone")
    with pytest.raises(NotFound):
        await store.get_domain("gone")
    assert [d.name for d in await store.list_domains()] == ["kept"]
    assert (await store.list_jobs("gone", limit=10, cursor=None)).items == []
    for job in gone_jobs:
        with pytest.raises(NotFound):
            await store.get_job("gone", job.id)
    assert (await store.list_runs("gone", RunFilter(), limit=10, cursor=None)).items == []
    assert [await store.find_run(r.id) for r in gone_runs] == [None] * len(gone_runs)
    assert await store.list_workers("gone") == []
    assert await store.list_tokens("gone") == []
    assert [await store.get_token(t.id) for t in gone_tokens] == [None, None]
    assert {t.domain for t in await store.active_tokens()} == {"kept"}
    # Its audit records go too: a domain re-created under the name must not read them.
    assert (await store.list_audit("gone", limit=10, cursor=None)).items == []
    # The log chunks went with the runs: a run stored again under the same id reads empty.
    again = gone_runs[0].model_copy(update={"log_size": 0})
    await store.insert_runs([again])
    assert (await store.read_log("gone", again.id, 0, 100)).data == ""

    kept = await store.get_domain("kept")
    assert (kept.description, kept.jobs, kept.tokens) == ("the kept team", 2, 2)
    kept_listed = await store.list_jobs("kept", limit=10, cursor=None)
    assert {j.id for j in kept_listed.items} == {j.id for j in kept_jobs}
    listed = await store.list_runs("kept", RunFilter(), limit=10, cursor=None)
    assert {r.id for r in listed.items} == {r.id for r in kept_runs}
    for run in kept_runs:
        assert (await store.read_log("kept", run.id, 0, 100)).data == "out\nout\n"
    assert [w.id for w in await store.list_workers("kept")] == ["kept-w"]
    assert await store.list_tokens("kept") == kept_tokens
    assert len((await store.list_audit("kept", limit=10, cursor=None)).items) == 3

    # The name is free again, and the new domain starts empty.
    await store.create_domain("gone", None, at(9))
    reborn = await store.get_domain("gone")
    assert (reborn.description, reborn.jobs, reborn.tokens) == (None, 0, 0)


async def test_deleting_an_unknown_domain_is_not_found(store: Store) -> None:
    await store.create_domain("ops", None, T0)
    with pytest.raises(NotFound):
        await store.delete_domain("nope")
    await store.delete_domain("ops")
    with pytest.raises(NotFound):
        await store.delete_domain("ops")


# tokens ----------------------------------------------------------------------------------------


async def test_tokens_read_back_by_id_from_any_domain_and_list_per_domain(store: Store) -> None:
    a = [make_token("a", f"a{i}", created_at=i) for i in range(4)]
    b = make_token("b", "b0")
    for token in [a[2], b, a[0], a[3], a[1]]:  # stored out of id order
        await store.create_token(token)

    for token in [*a, b]:
        assert await store.get_token(token.id) == token
    assert await store.get_token(tokens.mint().token_id) is None
    assert await store.list_tokens("a") == sorted(a, key=lambda t: t.id)
    assert await store.list_tokens("b") == [b]
    assert await store.list_tokens("nobody") == []


async def test_revoke_is_idempotent_and_scoped_to_the_domain(store: Store) -> None:
    token, other = await _token(store, "a"), await _token(store, "b")

    revoked = await store.revoke_token("a", token.id, at(10))
    assert revoked == replace(token, revoked_at=at(10))
    again = await store.revoke_token("a", token.id, at(20))
    assert again.revoked_at == at(10), "a second revoke keeps the first time"
    assert await store.get_token(token.id) == revoked

    with pytest.raises(NotFound):
        await store.revoke_token("a", other.id, at(30))
    with pytest.raises(NotFound):
        await store.revoke_token("b", tokens.mint().token_id, at(30))
    assert await store.get_token(other.id) == other, "another domain's token is untouched"


async def test_touch_sets_last_used(store: Store) -> None:
    token, other = await _token(store, "a"), await _token(store, "a", "other")
    await store.touch_token(token.id, at(5))
    assert await store.get_token(token.id) == replace(token, last_used_at=at(5))
    await store.touch_token(token.id, at(7))
    touched = await store.get_token(token.id)
    assert touched is not None and touched.last_used_at == at(7) and touched.revoked_at is None
    assert await store.get_token(other.id) == other


async def test_active_tokens_are_the_unrevoked_ones_of_every_domain(store: Store) -> None:
    made = [await _token(store, domain, f"t{i}") for i, domain in enumerate("abab")]
    await store.revoke_token("b", made[1].id, at(1))
    await store.touch_token(made[2].id, at(2))
    active = await store.active_tokens()
    assert [t.id for t in active] == sorted(t.id for t in (made[0], made[2], made[3]))
    assert all(t.revoked_at is None for t in active)
    assert next(t for t in active if t.id == made[2].id).last_used_at == at(2)


# audit -----------------------------------------------------------------------------------------


async def test_audits_added_in_one_batch_page_newest_first(store: Store) -> None:
    records = [make_audit("default", i) for i in range(7)]
    shuffled = records[:]
    random.Random(3).shuffle(shuffled)
    await store.add_audits([*shuffled, make_audit("other", 0), make_audit("other", 1)])
    await store.add_audits([])

    newest_first = list(reversed(records))
    seen: list[AuditRecord] = []
    cursor = None
    for expected_cursor in (True, True, False):
        page = await store.list_audit("default", limit=3, cursor=cursor)
        seen += page.items
        assert bool(page.next_cursor) is expected_cursor
        cursor = page.next_cursor
    assert seen == newest_first
    assert len((await store.list_audit("other", limit=10, cursor=None)).items) == 2
    exact = await store.list_audit("default", limit=7, cursor=None)
    assert exact.items == newest_first and exact.next_cursor is None


async def test_a_worker_id_of_another_domain_is_never_taken_over(store: Store) -> None:
    await store.apply([UpsertWorker(make_worker("shared-id", "team-b"))])
    await store.apply([UpsertWorker(make_worker("shared-id", "team-a", name="intruder"))])
    [kept] = await store.list_workers("team-b")
    assert kept.id == "shared-id" and kept.name != "intruder"
    assert await store.list_workers("team-a") == []
    with pytest.raises(NotFound):
        await store.get_worker("team-a", "shared-id")
