"""The garbage collector and a process that serves until it exits (`up`, `scheduler`, `worker`).

What such a process builds while it starts (modules, the FastAPI app with its pydantic
validators, compiled SQL, the store's and broker's clients) lives as long as the process. Left in
the collected generations, each full collection walks all of it again: under a burst of short
runs `up` made a full collection about once a second, each stalling the event loop for up to
~100 ms (bench/throughput.py, batch mode: 318 ms of 4.5 s). Frozen once start-up is done, those
objects are never walked again: full collections then cost a third of that.
"""

from __future__ import annotations

import ctypes
import gc
import sys
from typing import Any


def settle() -> None:
    """Collect what start-up left behind, then keep every survivor out of later collections.

    Call once, when start-up is complete, in a process that serves until it exits; not in a
    process that builds and drops many apps (tests): frozen objects are never collected.
    """
    gc.collect()
    gc.freeze()


def release() -> None:
    """Give memory freed inside the process back to the system (glibc only; else nothing).

    Freed log text (many 64 KiB strings, some freed on the store's thread) stays in glibc's
    arenas, and the process looked as big after a burst of output as at its peak: 725 MiB
    for 60 runs of 11 MB (issue 13 §4). `malloc_trim` returns the free pages; it walks the
    heap, so it is called after large frees, not per event.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


_TRIM: list[Any] = []


def _malloc_trim() -> Any:
    if not _TRIM:
        found = None
        if sys.platform.startswith("linux"):
            try:
                # The process's own symbols: libc's, without find_library (which runs ldconfig).
                found = getattr(ctypes.CDLL(None), "malloc_trim", None)  # absent from musl
            except OSError:
                found = None
        _TRIM.append(found)
    return _TRIM[0]
