"""What the parts of a supervised run share: the platform, pidfd support, and futures that a
thread of its own completes (a job's wait or read blocks for the job's whole life)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

WINDOWS = sys.platform == "win32"
LINUX = sys.platform.startswith("linux")
_T = TypeVar("_T")


@functools.cache
def pidfd_supported() -> bool:
    if not (hasattr(os, "pidfd_open") and hasattr(os, "wait4")):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:  # kernel older than 5.3, or seccomp
        return False
    return True


def set_result(fut: asyncio.Future[Any], value: Any = None) -> None:
    if not fut.done():
        fut.set_result(value)


def set_exception(fut: asyncio.Future[Any], exc: BaseException) -> None:
    if not fut.done():
        fut.set_exception(exc)


def in_thread(fn: Callable[..., _T], *args: Any) -> asyncio.Future[_T]:
    """Run a blocking call in its own daemon thread. Not the shared executor: a job's wait or
    read blocks for the job's whole life and would starve every other job of its few threads."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[_T] = loop.create_future()

    def target() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:
            outcome: tuple[Callable[..., None], object] = (set_exception, exc)
        else:
            outcome = (set_result, result)
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile; nobody is waiting
            loop.call_soon_threadsafe(outcome[0], fut, outcome[1])

    threading.Thread(target=target, name="hydra-job-io", daemon=True).start()
    return fut
