"""Brokers, chosen from a URL and imported lazily: `open_broker(url)`."""

from __future__ import annotations

from hydra_jobs.broker.base import Broker, Delivery
from hydra_jobs.errors import BackendUnavailable


def open_broker(url: str | None) -> Broker:
    """`None` or `memory://` gives the in-process broker of embedded mode."""
    if url is None or url.startswith("memory://"):
        from hydra_jobs.broker.memory import MemoryBroker

        return MemoryBroker()
    if url.startswith(("redis://", "rediss://", "unix://")):
        raise BackendUnavailable("the Redis broker is not available in this version")
    raise BackendUnavailable(f"no broker for URL scheme '{url.split(':', 1)[0]}'")


__all__ = ["Broker", "Delivery", "open_broker"]
