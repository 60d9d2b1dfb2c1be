"""Stores, chosen from a URL and imported lazily: `open_store(url)`."""

from __future__ import annotations

from hydra_jobs.errors import BackendUnavailable
from hydra_jobs.store.base import Store


def open_store(url: str) -> Store:
    """Build (not yet open) the store for `url`; a missing driver names the extra to install."""
    if url.startswith(("mongodb://", "mongodb+srv://")):
        try:
            import pymongo  # noqa: F401
        except ImportError as exc:
            raise BackendUnavailable(
                "MongoDB needs the pymongo driver: pip install 'hydra-jobs[mongo]'"
            ) from exc
        from hydra_jobs.store.mongo.store import MongoStore

        return MongoStore(url)
    if url.startswith(("postgresql", "postgres://")):
        try:
            import asyncpg  # noqa: F401
        except ImportError as exc:
            raise BackendUnavailable(
                "PostgreSQL needs the asyncpg driver: pip install 'hydra-jobs[postgres]'"
            ) from exc
    elif not url.startswith("sqlite"):
        raise BackendUnavailable(f"no store for URL scheme '{url.split(':', 1)[0]}'")
    from hydra_jobs.store.sql.store import SqlStore

    return SqlStore(url)


__all__ = ["Store", "open_store"]
