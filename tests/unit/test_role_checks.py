"""Roles without a server: their order, how a route's declared role is read and checked, a Mongo
token stored before roles, and the CLI's audit times."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
import typer

from hydra_jobs.cli.fleet import _when
from hydra_jobs.errors import Forbidden
from hydra_jobs.scheduler.api.deps import authorize, needed_role, needs
from hydra_jobs.scheduler.services.jobs import Principal
from hydra_jobs.store.mongo.tenancy import _token_from
from hydra_jobs.tenancy import ROLE_ORDER, Role


def test_each_role_allows_those_before_it_and_no_more() -> None:
    for i, role in enumerate(ROLE_ORDER):
        assert [role.allows(other) for other in ROLE_ORDER] == [j <= i for j in range(4)]


def test_a_route_that_declares_no_role_is_the_admins() -> None:
    assert needed_role(SimpleNamespace(openapi_extra=needs(Role.editor))) is Role.editor
    assert needed_role(SimpleNamespace(openapi_extra=None)) == "admin"
    assert needed_role(SimpleNamespace(openapi_extra={"x-hydra-role": "superuser"})) == "admin"
    assert needed_role(None) == "admin"


def test_authorize_names_the_role_needed_and_held() -> None:
    viewer = Principal(domain="ops", actor="token:ci", token_id="t", role=Role.viewer)
    with pytest.raises(
        Forbidden, match="needs the operator role or higher; this token is a viewer"
    ):
        authorize(viewer, Role.operator)
    operator = Principal(domain="ops", actor="token:ci", token_id="t", role=Role.operator)
    with pytest.raises(Forbidden, match="is an operator"):
        authorize(operator, Role.editor)
    authorize(operator, Role.operator)
    owner = Principal(domain="ops", actor="token:o", token_id="o", role=Role.owner)
    with pytest.raises(Forbidden, match="admin token"):
        authorize(owner, "admin")
    authorize(Principal(domain="ops", actor="admin", is_admin=True), "admin")


def test_a_mongo_token_stored_before_roles_is_an_owner() -> None:
    doc = {
        "_id": "0" * 32,
        "domain": "default",
        "name": "old",
        "secret_hash": "a" * 64,
        "worker_key": "b" * 64,
        "created_at": "2026-01-01T00:00:00.000000+00:00",
        "created_by": "admin",
    }
    assert _token_from(doc).role is Role.owner
    assert _token_from({**doc, "role": "viewer"}).role is Role.viewer


def test_audit_times_on_the_command_line() -> None:
    assert _when(None, "--since") is None
    assert _when("2026-05-01T12:00", "--since") == "2026-05-01T12:00:00+00:00"
    assert _when("2026-05-01T12:00+02:00", "--since") == "2026-05-01T12:00:00+02:00"
    ago = datetime.fromisoformat(_when("2h", "--since") or "")
    assert abs((datetime.now(UTC) - ago).total_seconds() - 7200) < 60
    with pytest.raises(typer.BadParameter):
        _when("yesterday", "--since")
