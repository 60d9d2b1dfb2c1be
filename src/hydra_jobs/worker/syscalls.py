"""The C library, for the system calls that ctypes makes (Landlock)."""

from __future__ import annotations

import ctypes
import functools

__all__ = ["libc"]


@functools.cache
def libc() -> ctypes.PyDLL:
    """The C library, for system calls that return at once: called with the GIL held. Releasing
    it around each call (ctypes.CDLL) hands it to a busy thread and waits to get it back; for a
    confined spawn's ~40 Landlock calls that cost a busy worker ~0.7 ms of CPU per run
    (`bench/throughput.py`, 4.8 against 4.1 ms)."""
    lib = ctypes.PyDLL(None, use_errno=True)
    lib.syscall.restype = ctypes.c_long
    return lib
