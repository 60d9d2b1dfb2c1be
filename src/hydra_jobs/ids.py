"""Sortable identifiers: UUIDv7 (RFC 9562) rendered as 32 lowercase hex characters.

Time-ordered ids make cursor pagination a plain `id < cursor` and keep B-tree inserts at the end.
Within one millisecond a counter keeps ids strictly increasing in this process.
"""

from __future__ import annotations

import os
import re
import threading
import time

_SHAPE = re.compile(r"[0-9a-f]{32}")
_lock = threading.Lock()
_last_ms = 0
_counter = 0
_COUNTER_BITS = 12


def new_id() -> str:
    global _last_ms, _counter
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            _counter += 1
            if _counter >= 1 << _COUNTER_BITS:
                _last_ms += 1
                _counter = 0
            ms = _last_ms
        else:
            _last_ms = ms
            _counter = 0
        counter = _counter
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= counter << 64
    value |= 0b10 << 62
    value |= rand
    return f"{value:032x}"


def is_id(text: str) -> bool:
    """True if `text` has the shape of an id `new_id` makes."""
    return _SHAPE.fullmatch(text) is not None
