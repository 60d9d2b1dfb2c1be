"""The Runs page with a big history, in a real browser: first rows and the next page.

    .venv/bin/python bench/runs_page.py [--runs 200000] [--loads 7] [--pages 5]

Seeds a SQLite database with `--runs` runs of one domain (through the store, as
bench/store_scale.py does), starts `hydra-jobs up` on it serving the built UI (ui/dist; run
`npm run build` in ui/ first), and drives headless Chromium (ui/scripts/runs-page-timing.mjs):
one cold load, then `--loads` warm loads of /runs (the assets in the browser's cache), timed from
navigation to the first rows in the DOM, and `--pages` clicks on "Older", timed from the click to
the next page's rows. Targets (issue 19): first rows within 500 ms, next page within 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import store_scale  # sibling scripts: their seeding and server start-up are reused
from throughput import free_port, wait_http

from hydra_jobs.store import open_store

ROOT = Path(__file__).resolve().parents[1]
UI = ROOT / "ui"
FIRST_ROWS_MS, NEXT_PAGE_MS = 500.0, 150.0


async def seed(db: Path, count: int) -> float:
    store_scale.DOMAINS = ("default",)  # every run in the domain the page shows
    store = open_store(f"sqlite+aiosqlite:///{db}")
    await store.open()
    try:
        _, seconds = await store_scale.populate(store, count)
        return seconds
    finally:
        await store.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200_000)
    parser.add_argument("--loads", type=int, default=7)
    parser.add_argument("--pages", type=int, default=5)
    args = parser.parse_args()
    if not (UI / "dist" / "index.html").is_file():
        print("ui/dist is missing: run `npm run build` in ui/ first", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "runs.db"
        seconds = asyncio.run(seed(db, args.runs))
        print(f"seeded {args.runs:,} runs in {seconds:.1f} s")
        port, token = free_port(), secrets.token_hex(24)
        env = {
            **os.environ,
            "ADMIN_TOKEN": token,
            "DATABASE_URL": f"sqlite+aiosqlite:///{db}",
            "HYDRA_UI_DIR": str(UI / "dist"),
            "LOG_LEVEL": "WARNING",
        }
        bin_ = Path(sys.executable).parent / "hydra-jobs"
        cmd = [str(bin_), "up", "--port", str(port), "--data-dir", tmp, "--concurrency", "1"]
        server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_http(f"{url}/healthz", timeout=60)
            script = "scripts/runs-page-timing.mjs"
            timing = ["node", script, url, token, str(args.loads), str(args.pages)]
            out = subprocess.run(timing, cwd=UI, check=True, stdout=subprocess.PIPE, text=True)
            result = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            server.terminate()
            server.wait(30)
    first, nxt = result["firstRows"], result["nextPages"]
    print(f"Runs page, {args.runs:,} runs stored; ms, median (min-max)")
    print(f"  cold load, first rows     {result['cold']:8.0f}")
    for label, values, target in (
        (f"warm load, first rows x{len(first)}", first, FIRST_ROWS_MS),
        (f"next page x{len(nxt)}", nxt, NEXT_PAGE_MS),
    ):
        median = statistics.median(values)
        verdict = "ok" if median <= target else "OVER"
        print(
            f"  {label:<25} {median:8.0f}  ({min(values):.0f}-{max(values):.0f})"
            f"  target {target:.0f}: {verdict}"
        )
    steps = ("domReady", "runsAsked", "runsAnswered", "rows")
    if all(load[s] is not None for load in result["loads"] for s in steps):
        spans = "  ".join(
            f"{s} {statistics.median(load[s] for load in result['loads']):.0f}" for s in steps
        )
        print(f"  warm load, median ms from navigation: {spans}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
