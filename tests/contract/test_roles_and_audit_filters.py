"""Token roles and the audit log's filters (issue 17): the same behaviour on every store."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hydra_jobs.errors import NotFound
from hydra_jobs.store.base import AuditFilter, Store
from hydra_jobs.tenancy import Role
from tests.contract.factories import at
from tests.contract.test_tenancy import make_audit, make_token


async def test_a_token_keeps_its_role_and_changes_it_in_its_domain_only(store: Store) -> None:
    viewer = replace(make_token("default", "looker"), role=Role.viewer)
    await store.create_token(viewer)
    stored = await store.get_token(viewer.id)
    assert stored is not None and stored.role is Role.viewer and not stored.can_work
    assert [t.role for t in await store.list_tokens("default")] == [Role.viewer]

    with pytest.raises(NotFound):
        await store.set_token_role("other", viewer.id, Role.owner)
    assert (await store.get_token(viewer.id)).role is Role.viewer  # type: ignore[union-attr]

    changed = await store.set_token_role("default", viewer.id, Role.operator)
    assert changed.role is Role.operator and changed.can_work
    assert [t.id for t in await store.active_tokens() if t.can_work] == [viewer.id]
    with pytest.raises(NotFound):
        await store.set_token_role("default", "f" * 32, Role.owner)


async def test_audit_filters_match_exactly_and_page_within_the_filter(store: Store) -> None:
    records = [
        replace(
            make_audit("default", i, action="jobs.create_job" if i % 2 else "runs.cancel"),
            actor="token:ci" if i < 6 else "admin",
            object_type="job" if i % 2 else "run",
        )
        for i in range(10)
    ]
    await store.add_audits([*records, replace(make_audit("other", 3), actor="token:ci")])

    async def ids(where: AuditFilter, limit: int = 3) -> list[str]:
        seen: list[str] = []
        cursor = None
        while True:
            page = await store.list_audit("default", limit=limit, cursor=cursor, where=where)
            seen += [r.id for r in page.items]
            if page.next_cursor is None:
                return seen
            cursor = page.next_cursor

    def expected(keep: object) -> list[str]:
        return [r.id for r in reversed(records) if keep(r)]  # type: ignore[operator]

    assert await ids(AuditFilter()) == expected(lambda r: True)
    assert await ids(AuditFilter(actor="token:ci")) == expected(lambda r: r.actor == "token:ci")
    both = AuditFilter(actor="token:ci", action="jobs.create_job")
    assert await ids(both, limit=1) == expected(
        lambda r: r.actor == "token:ci" and r.action == "jobs.create_job"
    )
    assert await ids(AuditFilter(object_type="run")) == expected(lambda r: r.object_type == "run")
    assert await ids(AuditFilter(object_type="job", object_id="job-7")) == [records[7].id]
    assert await ids(AuditFilter(action="jobs")) == []  # exact, not a prefix
    window = AuditFilter(since=at(3), until=at(6))
    assert await ids(window) == expected(lambda r: at(3) <= r.at < at(6))
    assert await ids(AuditFilter(actor="nobody")) == []
