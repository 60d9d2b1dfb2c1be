"""Before a server command starts: can it reach its store and its broker?

A database that does not exist, a server that is not running or credentials that are refused
are the usual first-start mistakes of distributed mode. Each is one line that says what is
wrong and what to do, instead of the traceback the app's start-up would end in. URLs are shown
without their passwords. A PostgreSQL database that does not exist can be created on request
(`create_database`, behind `--create-db` or a yes on a terminal).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from hydra_jobs.errors import ConfigError

CHECK_TIMEOUT_SECONDS = 10.0

# PostgreSQL's SQLSTATE codes of the mistakes people make (the server's own names).
INVALID_CATALOG_NAME = "3D000"  # the database does not exist
INVALID_PASSWORD = "28P01"
INVALID_AUTHORIZATION = "28000"  # no such role, or pg_hba refused it
MAINTENANCE_DB = "postgres"  # every PostgreSQL server has it; CREATE DATABASE is run from it


class MissingDatabase(ConfigError):
    """The PostgreSQL database DATABASE_URL names does not exist (the server answered)."""

    def __init__(self, message: str, database: str) -> None:
        super().__init__(message)
        self.database = database


def shown(url: str) -> str:
    """`url` without its password (and without a query that may carry one)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{parts.path}"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception and what caused it: SQLAlchemy and redis-py wrap the drivers' errors."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        todo += [current.__cause__, current.__context__]
        if isinstance(orig, BaseException):
            todo.append(orig)


def _sqlstate(exc: BaseException) -> str | None:
    for error in _chain(exc):
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def explain_store_error(url: str, exc: BaseException) -> str:
    """One line on why the store at `url` cannot be used."""
    parts = urlsplit(url)
    where = shown(url)
    database = parts.path.lstrip("/") or "(none)"
    code = _sqlstate(exc)
    if code == INVALID_CATALOG_NAME:
        host = parts.hostname or "localhost"
        return (
            f"the database '{database}' does not exist on {host}: create it "
            f'(createdb -h {host} {database}, or CREATE DATABASE "{database}"), '
            f"or point DATABASE_URL at another one ({where}); or start with --create-db"
        )
    if code in (INVALID_PASSWORD, INVALID_AUTHORIZATION):
        return (
            f"PostgreSQL refused the user '{parts.username or '(default)'}' of DATABASE_URL "
            f"({where}): {_first_line(exc)}; check the user name and password"
        )
    if any(isinstance(e, OSError) for e in _chain(exc)):
        return (
            f"cannot reach the store at {where}: {_first_line(exc)}; is the database server "
            "running, and are host and port right?"
        )
    return f"cannot open the store at {where}: {_first_line(exc)}"


def explain_broker_error(url: str, exc: BaseException) -> str:
    """One line on why Redis at `url` cannot be used."""
    where = shown(url)
    names = {type(e).__name__ for e in _chain(exc)}
    text = _first_line(exc)
    if names & {"AuthenticationError", "AuthenticationWrongNumberOfArgsError"} or any(
        word in text for word in ("NOAUTH", "WRONGPASS", "invalid password")
    ):
        return f"Redis at {where} refused the password in REDIS_URL: {text}"
    if "ConnectionError" in names or "TimeoutError" in names or "OSError" in names:
        return (
            f"cannot reach Redis at {where} (REDIS_URL): {text}; is redis-server running, and "
            "are host and port right?"
        )
    return f"cannot use Redis at {where} (REDIS_URL): {text}"


def _first_line(exc: BaseException) -> str:
    """The error's own words: its first line, without SQLAlchemy's "(driver.Error) " prefix."""
    lines = str(exc).strip().splitlines()
    line = re.sub(r"^\([\w.]+\) ", "", lines[0]) if lines else type(exc).__name__
    return line.rstrip(".")


async def check_store(url: str) -> None:
    """Open the store at `url` (which also brings its schema up to date) and close it again."""
    import asyncio

    from hydra_jobs.store import open_store

    store = open_store(url)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await store.open()
    except ConfigError:
        raise
    except Exception as exc:
        if _sqlstate(exc) == INVALID_CATALOG_NAME:
            raise MissingDatabase(explain_store_error(url, exc), database_name(url)) from exc
        raise ConfigError(explain_store_error(url, exc)) from exc
    finally:
        await _quietly(store.close())


def database_name(url: str) -> str:
    return unquote(urlsplit(url).path.lstrip("/"))


def quote_identifier(name: str) -> str:
    """`name` as a PostgreSQL identifier: in double quotes, inner ones doubled (no NULs)."""
    if not name or "\x00" in name:
        raise ConfigError(f"{name!r} cannot be a database name")
    return '"' + name.replace('"', '""') + '"'


def maintenance_url(url: str) -> str:
    """The same server, user and options, on the `postgres` database (for asyncpg)."""
    parts = urlsplit(url)
    scheme = "postgresql"  # asyncpg's; drops SQLAlchemy's "+driver"
    return urlunsplit((scheme, parts.netloc, f"/{MAINTENANCE_DB}", parts.query, ""))


async def create_database(url: str) -> bool:
    """CREATE DATABASE for the one `url` names, from the server's `postgres` database.

    Returns False when it already existed (another replica made it meanwhile). Raises a
    one-line ConfigError when the server refuses (e.g. the user may not create databases).
    """
    import asyncio

    import asyncpg

    name = database_name(url)
    statement = f"CREATE DATABASE {quote_identifier(name)}"
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            conn = await asyncpg.connect(maintenance_url(url))
            try:
                await conn.execute(statement)
            finally:
                await _quietly(conn.close())
    except asyncpg.DuplicateDatabaseError:
        return False
    except Exception as exc:
        raise ConfigError(
            f"could not create the database '{name}' on {shown(url)}: {_first_line(exc)}"
            " (the user needs the CREATEDB right, or create it as a superuser)"
        ) from exc
    return True


async def check_redis(url: str) -> None:
    """PING Redis at `url` with the URL's own credentials."""
    import asyncio

    from redis.asyncio import Redis

    client: Any = Redis.from_url(url, socket_connect_timeout=CHECK_TIMEOUT_SECONDS)
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await client.ping()
    except Exception as exc:
        raise ConfigError(explain_broker_error(url, exc)) from exc
    finally:
        await _quietly(client.aclose())


async def _quietly(closing: Any) -> None:
    try:
        await closing
    except Exception:  # closing what never opened must not hide why it did not
        pass
