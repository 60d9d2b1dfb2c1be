"""Bearer-token authentication: who is calling and which domain they act in.

Deny by default: every route but health depends on `principal`. Tokens are compared in constant
time. The admin token acts on `default` unless it names a domain with `X-Hydra-Domain` or the
`domain` query parameter.
"""

from __future__ import annotations

import hmac
import re

from fastapi import Request

from hydra_jobs.errors import Unauthorized
from hydra_jobs.scheduler.services import Principal

DOMAIN_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
DEFAULT_DOMAIN = "default"


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(request: Request, admin_token: str | None) -> Principal:
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("missing bearer token: send 'Authorization: Bearer <token>'")
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        domain = (
            request.headers.get("x-hydra-domain")
            or request.query_params.get("domain")
            or DEFAULT_DOMAIN
        )
        if not DOMAIN_RE.match(domain):
            raise Unauthorized("invalid domain name")
        return Principal(domain=domain, actor="admin", is_admin=True)
    raise Unauthorized("invalid token")
