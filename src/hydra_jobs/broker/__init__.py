"""Brokers, chosen from a URL and imported lazily: `open_broker(url)`."""

from __future__ import annotations

from hydra_jobs.broker.base import Broker, Delivery
from hydra_jobs.broker.signing import KeyRing
from hydra_jobs.errors import BackendUnavailable


def is_memory_url(url: str | None) -> bool:
    """True for the in-process broker's URLs (none, or `memory://`): no Redis, no signing."""
    return url is None or url.startswith("memory://")


def open_broker(
    url: str | None,
    keys: KeyRing | None = None,
    *,
    prefix: str = "hydra",
    lease_grace_seconds: float = 10.0,
) -> Broker:
    """`None` or `memory://` gives the in-process broker of embedded mode.

    `redis://`, `rediss://` and `unix://` give the Redis broker, which signs and verifies every
    message with `keys` (see `broker/signing.py`); `lease_grace_seconds` is how long the reaper
    waits after Redis lost its data before it trusts the lease view again.
    """
    if url is None or is_memory_url(url):
        from hydra_jobs.broker.memory import MemoryBroker

        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        try:
            import redis  # noqa: F401
        except ImportError as exc:
            raise BackendUnavailable(
                "the Redis broker needs redis-py: pip install 'hydra-jobs[redis]'"
            ) from exc
        if keys is None:
            raise BackendUnavailable(
                "the Redis broker needs signing keys: ADMIN_TOKEN (scheduler) or API_TOKEN (worker)"
            )
        from hydra_jobs.broker.redis.broker import RedisBroker

        return RedisBroker(url, keys, prefix=prefix, lease_grace_seconds=lease_grace_seconds)
    raise BackendUnavailable(f"no broker for URL scheme '{url.split(':', 1)[0]}'")


__all__ = ["Broker", "Delivery", "is_memory_url", "open_broker"]
