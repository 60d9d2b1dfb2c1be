"""Which routes an admin may call naming a domain that does not exist (auth.py): /me and the
domains themselves, also behind a proxy's path prefix, and nothing that only starts alike."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from hydra_jobs.scheduler.api.auth import _acts_outside, _route_path


def request(path: str, root_path: str = "") -> Request:
    return Request({"type": "http", "path": path, "root_path": root_path, "headers": []})


@pytest.mark.parametrize(
    ("path", "root_path", "outside"),
    [
        ("/api/v1/me", "", True),
        ("/api/v1/domains", "", True),
        ("/api/v1/domains/ops/tokens", "", True),
        ("/hydra/api/v1/domains", "/hydra", True),
        ("/api/v1/domainsX", "", False),
        ("/api/v1/jobs", "", False),
        ("/hydra/api/v1/jobs", "/hydra", False),
        ("/api/v1/events", "", False),
    ],
)
def test_the_domain_free_routes(path: str, root_path: str, outside: bool) -> None:
    assert _acts_outside(_route_path(request(path, root_path))) is outside
