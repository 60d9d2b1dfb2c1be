"""The garbage collector and a process that serves until it exits (`up`, `scheduler`, `worker`).

What such a process builds while it starts (modules, the FastAPI app with its pydantic
validators, compiled SQL, the store's and broker's clients) lives as long as the process. Left in
the collected generations, each full collection walks all of it again: under a burst of short
runs `up` made a full collection about once a second, each stalling the event loop for up to
~100 ms (bench/throughput.py, batch mode: 318 ms of 4.5 s). Frozen once start-up is done, those
objects are never walked again: full collections then cost a third of that.
"""

from __future__ import annotations

import gc


def settle() -> None:
    """Collect what start-up left behind, then keep every survivor out of later collections.

    Call once, when start-up is complete, in a process that serves until it exits; not in a
    process that builds and drops many apps (tests): frozen objects are never collected.
    """
    gc.collect()
    gc.freeze()
