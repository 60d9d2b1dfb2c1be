"""`hydra-jobs worker` stops (drains) on SIGTERM and SIGINT through the event loop's handlers on
POSIX, and through plain signal handlers where the loop has none (Windows): both ways with real
signals sent to this process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from hydra_jobs.cli.server import on_stop_signals


@pytest.mark.skipif(
    sys.platform == "win32", reason="on Windows, os.kill ends the process instead of signalling it"
)
@pytest.mark.parametrize("use_loop", [True, False], ids=["loop-handlers", "plain-handlers"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_a_stop_signal_reaches_the_loop(use_loop: bool, sig: signal.Signals) -> None:
    loop = asyncio.get_running_loop()
    stopped = asyncio.Event()
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        on_stop_signals(loop, stopped.set, use_loop=use_loop)
        os.kill(os.getpid(), sig)
        await asyncio.wait_for(stopped.wait(), 5)
    finally:
        for s, previous in saved.items():
            if use_loop:
                loop.remove_signal_handler(s)
            signal.signal(s, previous)
