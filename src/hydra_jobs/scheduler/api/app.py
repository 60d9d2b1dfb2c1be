"""The FastAPI app factory and its lifespan: store, broker, engine, and what runs alongside.

Errors are mapped to HTTP here and nowhere else. The app serves the API and the UI and runs the
engine; it builds no worker: `hydra-jobs up` adds its embedded one (`cli/embedded.py`) through
`alongside`.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from pydantic import BaseModel

from hydra_jobs import __version__, heap
from hydra_jobs.broker import is_memory_url, open_broker
from hydra_jobs.broker.base import Broker
from hydra_jobs.broker.signing import SchedulerKeys
from hydra_jobs.clock import Clock, SystemClock, utcnow
from hydra_jobs.config import Settings
from hydra_jobs.errors import (
    AiNotConfigured,
    AiProviderFailed,
    AiTimeout,
    BackendUnavailable,
    Conflict,
    Forbidden,
    HydraError,
    InvalidInput,
    NotFound,
    RateLimited,
    TooLarge,
    Unauthorized,
)
from hydra_jobs.field_hints import in_words, with_hint
from hydra_jobs.scheduler.ai.providers import AiProviders
from hydra_jobs.scheduler.api.audit_middleware import AuditMiddleware
from hydra_jobs.scheduler.api.auth import Authenticator, note_use
from hydra_jobs.scheduler.api.deps import get_principal
from hydra_jobs.scheduler.api.input_rules import NUL, json_safe, reject_nul
from hydra_jobs.scheduler.api.routes import (
    ai,
    audit,
    domains,
    events,
    health,
    jobs,
    notify,
    runs,
    schedules,
    stats,
    tokens,
    workers,
)
from hydra_jobs.scheduler.api.ui_assets import REVALIDATE, UiAssets, file_inside
from hydra_jobs.scheduler.context import Runtime
from hydra_jobs.scheduler.loops.engine import Engine
from hydra_jobs.store import open_store
from hydra_jobs.store.base import Store
from hydra_jobs.tokens import TokenRecord

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
STATUS_OF: dict[type[HydraError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidInput: 422,
    TooLarge: 413,
    Unauthorized: 401,
    Forbidden: 403,
    BackendUnavailable: 503,
    AiNotConfigured: 503,
    AiProviderFailed: 502,
    AiTimeout: 504,
    RateLimited: 429,
}


def _error_response(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HydraError)
    code = next((c for cls, c in STATUS_OF.items() if isinstance(exc, cls)), 500)
    detail: Any = exc.message
    if isinstance(exc, InvalidInput) and exc.loc:
        detail = [{"loc": list(exc.loc), "msg": exc.message, "type": "value_error"}]
    headers = {"WWW-Authenticate": "Bearer"} if code == 401 else None
    if isinstance(exc, RateLimited):  # wrong tokens, a domain's run cap, the AI rate limit
        headers = {"Retry-After": str(max(1, math.ceil(exc.retry_after)))}
    return JSONResponse({"detail": detail}, status_code=code, headers=headers)


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422, with "did you mean" for an unknown field of the body's model and a name's
    rule in words instead of its regular expression."""
    assert isinstance(exc, RequestValidationError)
    body = getattr(request.scope.get("route"), "body_field", None)
    model = getattr(getattr(body, "field_info", None), "annotation", None)
    errors = [in_words(e) for e in exc.errors()]
    if isinstance(model, type) and issubclass(model, BaseModel):
        errors = [with_hint(e, model, skip=1) if e["loc"][:1] == ("body",) else e for e in errors]
    # An error quotes its input, which may be a NaN or an infinity the JSON parser let in.
    return JSONResponse({"detail": json_safe(jsonable_encoder(errors))}, status_code=422)


def _mount_ui(app: FastAPI, ui_dir: Path | None) -> None:
    if ui_dir is None or not (ui_dir / "index.html").is_file():
        return
    index = ui_dir / "index.html"
    if (ui_dir / "assets").is_dir():
        app.mount("/assets", UiAssets(ui_dir / "assets"), name="ui-assets")

    @app.get("/{path:path}", include_in_schema=False)
    async def spa(path: str) -> FileResponse:
        if path == "api" or path.startswith("api/"):
            raise NotFound(f"no such API route: /{path[:200]}")  # JSON, never the UI page
        if NUL in path:  # no file has one (the API refuses it too)
            raise NotFound("no such page")
        if (found := file_inside(ui_dir, path)) is not None:
            return FileResponse(found)
        # index.html names this release's assets: asked again on every load (ui_assets.py).
        return FileResponse(index, headers={"Cache-Control": REVALIDATE})


def default_ui_dir() -> Path | None:
    packaged = Path(__file__).resolve().parents[2] / "ui_dist"
    repo = Path(__file__).resolve().parents[4] / "ui" / "dist"
    for candidate in (packaged, repo):
        if (candidate / "index.html").is_file():
            return candidate
    return None


# Something that runs as long as the app serves, e.g. `up`'s embedded worker: entered once the
# engine runs, exited (before the engine stops) when the app shuts down.
Alongside = Callable[[FastAPI, Runtime], AbstractAsyncContextManager[object]]


def create_app(
    settings: Settings | None = None,
    *,
    store: Store | None = None,
    broker: Broker | None = None,
    clock: Clock | None = None,
    alongside: Sequence[Alongside] = (),
    settle_heap: bool = False,
) -> FastAPI:
    """Build the app. Backends default to what `settings` names; tests may pass their own.

    `alongside`: what runs with the app, in this order, once its engine runs (`up`: the embedded
    worker, `cli/embedded.py`); each is stopped, in reverse order, before the engine.
    `settle_heap`: the process serves this app until it exits, so once started, what start-up
    built is kept out of garbage collections (`heap.settle`).
    """
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        the_store = store or open_store(settings.store_url())
        the_broker = broker or scheduler_broker(settings)
        await the_store.open()
        await the_store.ensure_domain("default")
        await the_broker.start()
        rt = Runtime(
            store=the_store,
            broker=the_broker,
            clock=clock or SystemClock(),
            settings=settings,
            keys=_signing_keys(the_broker, the_store),
        )
        admin = settings.admin_token.get_secret_value() if settings.admin_token else None
        app.state.auth = Authenticator(admin, the_store, rt.clock)
        engine = Engine(rt)
        app.state.engine = engine
        engine.start()
        try:
            async with contextlib.AsyncExitStack() as running:
                for companion in alongside:
                    await running.enter_async_context(companion(app, rt))
                if settle_heap:
                    heap.settle()
                yield
        finally:
            await engine.stop()
            await the_broker.close()
            await the_store.close()

    app = FastAPI(
        title="Hydra Jobs",
        version=__version__,
        description="Run shell, Python and batch jobs on a fleet of workers.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.ai = AiProviders(settings)
    app.add_exception_handler(HydraError, _error_response)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_middleware(AuditMiddleware)
    api = APIRouter(prefix=API_PREFIX, dependencies=[Depends(get_principal), Depends(reject_nul)])
    for module in (
        jobs,
        runs,
        schedules,
        workers,
        events,
        stats,
        domains,
        tokens,
        audit,
        ai,
        notify,
    ):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(health.router)
    _mount_ui(app, settings.ui_dir or default_ui_dir())
    plain_openapi = app.openapi
    app.openapi = lambda: events.document_streams(plain_openapi())  # type: ignore[method-assign]
    return app


def _signing_keys(broker: Broker, store: Store) -> SchedulerKeys | None:
    """A Redis broker's scheduler keys, made able to look worker tokens up in the store."""
    keys = getattr(broker, "ring", None)
    if not isinstance(keys, SchedulerKeys):
        return None
    if keys.lookup is None:

        async def lookup(token_id: str) -> TokenRecord | None:
            """The token a worker event names; its use is shown as `last_used_at`."""
            record = await store.get_token(token_id)
            if record is not None and record.revoked_at is None:
                await note_use(store, record, utcnow())
            return record

        keys.lookup = lookup
    return keys


def scheduler_broker(settings: Settings) -> Broker:
    """The broker `settings` name, with a scheduler's signing keys (derived from ADMIN_TOKEN).

    Only Redis signs: the in-process broker of embedded mode gets no keys, so `hydra-jobs up`
    needs neither `cryptography` nor `redis` (both come with the `redis` extra).
    """
    keys = None
    if settings.admin_token is not None and not is_memory_url(settings.redis_url):
        keys = SchedulerKeys(settings.admin_token.get_secret_value())
    return open_broker(
        settings.redis_url,
        keys,
        prefix=settings.redis_prefix,
        lease_grace_seconds=settings.lease_seconds,
    )
